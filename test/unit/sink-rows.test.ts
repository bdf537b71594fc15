/** The `spans` row text helpers (sink/rows.ts) against the plain formulas they speed up. */
import { describe, expect, it } from 'vitest';
import { compactRowsBytes } from '../../queries/src/client.js';
import { nanosToDateTime64, toSpanValues } from '../../pipeline/src/sink/rows.js';
import { encodeSpanRecord } from '../../pipeline/src/sink/wal-records.js';
import type { PricedSpan } from '../../pipeline/src/model.js';
import { pricedSpan } from '../helpers/spans.js';

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

/** The serialization before the row writer: one string of every line, then its UTF-8 bytes. */
function referenceRecord(spans: readonly PricedSpan[]): Buffer {
  const ids: string[] = [];
  for (const s of spans) ids.push(s.traceId, s.spanId);
  let text = JSON.stringify(ids) + '\n';
  for (const s of spans) text += JSON.stringify(toSpanValues(s)) + '\n';
  return Buffer.from(text, 'utf8');
}

/** Texts that exercise JSON escaping and UTF-8: quotes, controls, 2/3/4-byte characters, lone surrogates. */
const AWKWARD = [
  '',
  'plain',
  'quote " backslash \\ slash /',
  'line\nbreak\ttab\r\u0000\u001f\u007f',
  'café naïve ß',
  '日本語のテキスト',
  'emoji 😀🚀 and 𝄞',
  'lone \ud800 high and \udc00 low',
  '\u2028\u2029 separators',
];

describe('span rows as bytes', () => {
  it('are byte for byte the text serialization, for a generated batch of awkward spans', () => {
    let seed = 11;
    const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const pick = (): string => AWKWARD[next() % AWKWARD.length]!;
    const resource = { 'service.name': pick(), 'host.name': pick(), 'os.type': 'linux' };
    const spans: PricedSpan[] = [];
    for (let i = 0; i < 400; i++) {
      const attrs: Record<string, string> = {};
      for (let k = 0; k < 1 + (next() % 12); k++) attrs[`attr.${pick()}.${k}`] = pick();
      // Every 50th span carries a value far larger than the writer's first size estimate.
      if (i % 50 === 0) attrs['big'] = pick().repeat(500) + '日本'.repeat(1500) + '😀'.repeat(3000);
      spans.push(
        pricedSpan({
          traceId: (next() >>> 0).toString(16).padStart(32, '0'),
          spanId: (next() >>> 0).toString(16).padStart(16, '0'),
          name: pick(),
          statusMessage: pick(),
          toolName: pick(),
          developer: pick(),
          resourceAttributes: i % 3 === 0 ? { ...resource, extra: pick() } : resource,
          spanAttributes: attrs,
          costNanos: i % 4 === 0 ? null : BigInt(next()) * 1000n,
          inputTokens: next() % 100_000,
          isError: i % 9 === 0,
        }),
      );
    }
    const reference = referenceRecord(spans);
    expect(reference.toString('utf8')).toMatch(/😀/); // the batch does reach multi-byte UTF-8
    expect(encodeSpanRecord(spans).equals(reference)).toBe(true);
    // Batch sizes around the writer's growth steps, including one span and none.
    for (const n of [0, 1, 2, 7, 51, 399])
      expect(encodeSpanRecord(spans.slice(0, n)).equals(referenceRecord(spans.slice(0, n)))).toBe(
        true,
      );
  });

  it('write any rows as JSON lines after the first line, escapes and all', () => {
    const rows: unknown[][] = AWKWARD.map((t, i) => [t, i, null, { [t]: t }, [t, 1.5], true]);
    const text = rows.map((r) => JSON.stringify(r) + '\n').join('');
    expect(compactRowsBytes(rows, (r) => r).toString('utf8')).toBe(text);
    expect(compactRowsBytes(rows, (r) => r, 'head\n').toString('utf8')).toBe('head\n' + text);
    expect(compactRowsBytes([], (r: unknown[]) => r).length).toBe(0);
  });
});
