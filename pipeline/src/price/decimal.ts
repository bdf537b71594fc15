/**
 * Exact decimal arithmetic for prices. The table keeps prices as decimal strings in USD per
 * million tokens; at use they become integer pico-USD per token (1 USD/MTok = 1,000,000 pico-USD
 * per token), costs are exact integer pico-USD and are rounded once, half up, to nano-USD.
 * No floating point anywhere.
 */
import { PriceTableError } from './errors.js';

/** A JSON number literal that is not negative: `3`, `0.075`, `1.5e-7`, `2E+1`. */
const DECIMAL = /^(0|[1-9]\d*)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** Exponents beyond this are not prices; refusing them keeps `10n ** e` cheap. */
const MAX_EXPONENT = 64;

/** pico-USD per token in one USD per million tokens, as a power of ten. */
const PICO_PER_MTOK_DIGITS = 6;

/** True when `text` is a non-negative JSON number literal usable as a price. */
export function isDecimalPrice(text: string): boolean {
  const m = DECIMAL.exec(text);
  return m !== null && Math.abs(Number(m[3] ?? '0')) <= MAX_EXPONENT;
}

/**
 * A price in USD per million tokens, given as decimal text exactly as in the source, to integer
 * pico-USD per token. Exact up to 6 decimals; further decimals round half up.
 *
 * @example mtokToPico('0.075') === 75_000n; mtokToPico('3.75') === 3_750_000n
 */
export function mtokToPico(text: string): bigint {
  const m = DECIMAL.exec(text);
  const exponent = Number(m?.[3] ?? '0');
  if (m === null || Math.abs(exponent) > MAX_EXPONENT) {
    throw new PriceTableError(
      `not a decimal price in USD per million tokens: ${JSON.stringify(text)}`,
    );
  }
  const fraction = m[2] ?? '';
  const digits = BigInt((m[1] ?? '0') + fraction);
  // value = digits × 10^(exponent - fraction.length) USD/MTok = digits × 10^(shift) pico/token
  const shift = PICO_PER_MTOK_DIGITS + exponent - fraction.length;
  if (shift >= 0) return digits * 10n ** BigInt(shift);
  return divideHalfUp(digits, 10n ** BigInt(-shift));
}

/** pico-USD to nano-USD, rounding half up (costs are never negative). */
export function picoToNanos(pico: bigint): bigint {
  return divideHalfUp(pico, 1000n);
}

function divideHalfUp(n: bigint, d: bigint): bigint {
  return (n * 2n + d) / (d * 2n);
}

/** USD per token (a JSON number, often like 3e-06) → pico-USD per token, exactly from its decimal text. */
export function perTokenToPico(usdPerToken: number): bigint {
  const [mantissa = '0', exp = '0'] = String(usdPerToken).toLowerCase().split('e');
  return mtokToPico(`${mantissa}e${Number(exp) + 6}`);
}

/**
 * pico-USD per token as USD per million tokens, exact, trailing zeros trimmed.
 * @example picoToMtokText(3_750_000n) === '3.75'
 */
export function picoToMtokText(pico: bigint): string {
  const whole = pico / 1_000_000n;
  const frac = (pico % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return frac === '' ? whole.toString() : `${whole.toString()}.${frac}`;
}
