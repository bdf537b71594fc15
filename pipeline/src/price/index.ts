// The generator (generate.ts) is a build-time command and stays out of the runtime exports.
export {
  computeCost,
  createPriceBook,
  loadBundledPriceTable,
  loadPriceTable,
  MAX_RESOLUTION_CACHE,
  PROVIDER_ALIASES,
} from './book.js';
export type {
  CallCost,
  CostUsage,
  PicoPrice,
  PriceBook,
  PriceBookSources,
  PriceCall,
  PriceOutcome,
  PriceRow,
} from './book.js';
export {
  discountPico,
  loadPriceOverrides,
  NO_OVERRIDES,
  parsePriceOverrides,
} from './overrides.js';
export type { CustomModel, PriceChange, PriceDiscount, PriceOverrides } from './overrides.js';
export { mtokToPico, picoToMtokText, picoToNanos } from './decimal.js';
export { loadPriceBook, loadReloadablePriceBook } from './load.js';
export type { ReloadablePriceBook } from './load.js';
export { describePrice } from './show.js';
export { PriceTableError } from './errors.js';
export type { PriceErrorCode } from './errors.js';
export {
  compileMatch,
  parsePriceTable,
  FEE_COMPONENTS,
  PRICE_COMPONENTS,
  PRICE_TABLE_VERSION,
  TOKEN_COMPONENTS,
} from './table.js';
export type {
  MatchClause,
  NameMatcher,
  PriceComponent,
  PricePeriod,
  PriceTable,
  PriceTableSource,
  PriceTier,
  TableModel,
  TablePrice,
  TableProvider,
} from './table.js';
export { costOutOfRange, MAX_COST_NANOS } from './bounds.js';
