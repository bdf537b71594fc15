/** Machine-readable codes of pricing errors. */
export type PriceErrorCode =
  /** The committed table (pipeline/data/prices.json) is missing, unreadable or malformed. */
  | 'PRICE_TABLE_INVALID'
  /** The upstream price data given to the generator is malformed or not the pinned version. */
  | 'PRICE_SOURCE_INVALID'
  /** The user's overrides file (HM_PRICES_FILE) is unreadable, malformed or names an unknown model. */
  | 'PRICE_OVERRIDES_INVALID';

/**
 * A price table or its upstream source is unusable. Never retriable: the data has to be fixed
 * (usually by regenerating the table with `npm run gen:prices`).
 */
export class PriceTableError extends Error {
  readonly code: PriceErrorCode;
  readonly retriable = false as const;
  constructor(message: string, options: { code?: PriceErrorCode; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PriceTableError';
    this.code = options.code ?? 'PRICE_TABLE_INVALID';
  }
}
