import type { PricedSpan } from '../model.js';

/** Largest cost the store keeps (Int64 nano-USD, about $9.2 billion). */
export const MAX_COST_NANOS = 9_223_372_036_854_775_807n;

/**
 * Why a priced span cannot be stored as it is (a cost beyond Int64 nano-USD would wrap negative in
 * ClickHouse), or undefined. Costs are bigint, so the check is exact; token counts are bounded at
 * decode, so only a custom price far beyond any real one gets here.
 */
export function costOutOfRange(span: PricedSpan): string | undefined {
  const costs = [
    span.costNanos,
    span.inputCostNanos,
    span.outputCostNanos,
    span.cacheReadCostNanos,
    span.cacheWriteCostNanos,
  ];
  if (costs.some((c) => c !== null && (c > MAX_COST_NANOS || c < 0n)))
    return `span ${span.spanId}: its cost (${String(span.costNanos)} nano-USD) is outside 0..${MAX_COST_NANOS} nano-USD`;
  return undefined;
}
