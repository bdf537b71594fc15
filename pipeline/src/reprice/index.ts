export { repriceStoredCosts, REPRICE_DEFAULTS } from './reprice.js';
export type { RepriceOptions, RepriceResult } from './reprice.js';
export { repriceRoute, summarize } from './service.js';
export type { RepriceSummary } from './service.js';
