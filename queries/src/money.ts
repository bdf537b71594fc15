const NANOS_PER_USD = 1_000_000_000n;

/**
 * Formats integer nano-USD as a decimal dollar string, exactly (no float on the way).
 * @example formatUsd(1_234_567_890n, 4) === '1.2346'
 */
export function formatUsd(nanos: bigint, decimals = 9): string {
  const neg = nanos < 0n;
  let abs = neg ? -nanos : nanos;
  if (decimals < 9) {
    const unit = 10n ** BigInt(9 - decimals);
    abs = (abs + unit / 2n) / unit; // round half up
  }
  const scale = 10n ** BigInt(Math.min(decimals, 9));
  const whole = abs / scale;
  const frac = abs % scale;
  const fracText = decimals > 0 ? '.' + frac.toString().padStart(Math.min(decimals, 9), '0') : '';
  return `${neg ? '-' : ''}${whole.toString()}${fracText}`;
}

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER) + 1n;

/** Dollars as a JSON-friendly number; exact to the nano-dollar below 2^53 nanos (about $9M). */
export function nanosToUsdNumber(nanos: bigint): number {
  // Up to 2^53 both nanos and 1e9 are exact doubles, and IEEE division rounds the exact quotient to
  // the nearest double, as parsing its decimal text does: the same number without the string
  // (a third of cost-per-pr's row conversion at 15,000 rows). test/unit/money.test.ts compares them.
  if (nanos >= -MAX_EXACT && nanos <= MAX_EXACT) return Number(nanos) / 1e9;
  return Number(formatUsd(nanos));
}

export { NANOS_PER_USD };
