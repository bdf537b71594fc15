import { describe, expect, it } from 'vitest';
import { formatUsd, nanosToUsdNumber } from '../../queries/src/money.js';

describe('nanosToUsdNumber', () => {
  it('gives the number of the exact decimal text, on both sides of 2^53 nanos', () => {
    const max = BigInt(Number.MAX_SAFE_INTEGER) + 1n;
    const values = [0n, 1n, -1n, 999_999_999n, 1_000_000_000n, 1_234_567_891n, max, -max, max + 1n];
    values.push(-max - 1n, 123_456_789_012_345_678n);
    // A fixed pseudo-random walk over the whole safe range (xorshift; no Math.random: reproducible).
    let x = 0x2545f491n;
    for (let i = 0; i < 20_000; i++) {
      x ^= (x << 13n) & 0xffffffffffffffffn;
      x ^= x >> 7n;
      x ^= (x << 17n) & 0xffffffffffffffffn;
      values.push((x % max) * (i % 2 === 0 ? 1n : -1n), x % 100_000_000_000n);
    }
    for (const n of values) expect(nanosToUsdNumber(n)).toBe(Number(formatUsd(n)));
  });
});
