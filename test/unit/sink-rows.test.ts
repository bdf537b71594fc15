/** The `spans` row text helpers (sink/rows.ts) against the plain formulas they speed up. */
import { describe, expect, it } from 'vitest';
import { nanosToDateTime64 } from '../../pipeline/src/sink/rows.js';

/** The formula before the per-second memo: a Date and its ISO text per time. */
function reference(nanos: bigint): string {
  const ms = nanos / 1_000_000n;
  const frac = (nanos % 1_000_000_000n).toString().padStart(9, '0');
  const iso = new Date(Number(ms)).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${frac}`;
}

describe('nanosToDateTime64', () => {
  it('gives the reference text for times in any order, seconds sharing memo slots included', () => {
    let seed = 7;
    const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const times: bigint[] = [
      0n,
      999_999_999n,
      1_000_000_000n,
      946_684_800_000_000_000n, // 2000-01-01
      4_102_444_799_999_999_999n, // the last nanosecond before 2100
      1_763_632_800_123_456_789n,
    ];
    const base = 1_763_632_800_000_000_000n;
    for (let i = 0; i < 3000; i++) {
      // Seconds 64 apart land in one slot; fractions with leading zeros; far and near times mixed.
      const second = BigInt(next() % 4096) * (i % 3 === 0 ? 64n : 1n);
      const frac = BigInt(next() % 1_000_000_000) / (i % 5 === 0 ? 1_000_000n : 1n);
      times.push(base + second * 1_000_000_000n + frac);
      if (i % 7 === 0) times.push(BigInt(next()) * 1_000_000_000n + frac);
    }
    for (const t of times) expect([t, nanosToDateTime64(t)]).toEqual([t, reference(t)]);
    expect(nanosToDateTime64(1_763_632_800_123_456_789n)).toBe('2025-11-20 10:00:00.123456789');
    expect(nanosToDateTime64(1_763_632_800_000_000_007n)).toBe('2025-11-20 10:00:00.000000007');
  });
});
