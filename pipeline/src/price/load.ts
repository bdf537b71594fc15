import { createPriceBook, loadBundledPriceTable, type PriceBook } from './book.js';
import { loadPriceOverrides, NO_OVERRIDES } from './overrides.js';
import { loadServiceTiers } from './service-tiers.js';

/**
 * The price book every stage uses: the bundled table, with the overrides file on top when one is
 * configured (HM_PRICES_FILE). Throws PriceTableError at start when either is unusable.
 */
export function loadPriceBook(pricesFile: string | undefined): PriceBook {
  return createPriceBook(
    loadBundledPriceTable(),
    pricesFile === undefined ? NO_OVERRIDES : loadPriceOverrides(pricesFile),
    loadServiceTiers(),
  );
}
