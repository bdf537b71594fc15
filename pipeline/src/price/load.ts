import { createPriceBook, loadBundledPriceTable, type PriceBook } from './book.js';
import { loadPriceOverrides, NO_OVERRIDES } from './overrides.js';
import { loadServiceTiers } from './service-tiers.js';
import { loadGapFill } from './gap-fill.js';

/**
 * The price book every stage uses: the bundled table, with the overrides file on top when one is
 * configured (HM_PRICES_FILE). Throws PriceTableError at start when either is unusable.
 */
export function loadPriceBook(pricesFile: string | undefined): PriceBook {
  return createPriceBook(
    loadBundledPriceTable(),
    pricesFile === undefined ? NO_OVERRIDES : loadPriceOverrides(pricesFile),
    loadServiceTiers(),
    loadGapFill().tables,
  );
}

/** A price book whose data can be reloaded while the server runs (after HM_PRICES_FILE changed). */
export interface ReloadablePriceBook extends PriceBook {
  /** Reads the bundled table and the overrides again; on a bad file, throws and keeps the old book. */
  reload(): void;
}

export function loadReloadablePriceBook(pricesFile: string | undefined): ReloadablePriceBook {
  let book = loadPriceBook(pricesFile);
  return {
    resolve: (provider, model, at) => book.resolve(provider, model, at),
    priceSpan: (span) => book.priceSpan(span),
    priceCall: (call) => book.priceCall(call),
    history: (provider, model) => book.history(provider, model),
    get sources() {
      return book.sources;
    },
    reload() {
      book = loadPriceBook(pricesFile);
    },
  };
}
