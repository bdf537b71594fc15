export { repriceStoredCosts, REPRICE_DEFAULTS } from './reprice.js';
export type { RepriceOptions, RepriceResult } from './reprice.js';
