export {
  createPriceBook,
  loadBundledPriceTable,
  computeCost,
  mtokToPico,
  PriceTableError,
  PROVIDER_ALIASES,
} from './book.js';
export type { PriceBook, PriceRow, PicoPrice, CostUsage, CallCost } from './book.js';
export { matches, PRICE_KEYS } from './table.js';
export type {
  PriceTable,
  TableProvider,
  TableModel,
  TablePeriod,
  TablePrice,
  MatchClause,
  PriceKey,
} from './table.js';
