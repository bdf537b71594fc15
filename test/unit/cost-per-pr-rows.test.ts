import { describe, expect, it } from 'vitest';
import { COST_PER_PR_COLUMNS, readCostPerPrTsv } from '../../queries/src/cost-per-pr-rows.js';
import { costPerPrRow } from '../../queries/src/reports.js';
import { parseTsvWithNames } from '../../queries/src/tsv.js';

/** ClickHouse's TSV escaping of a String cell (what parseTsvWithNames undoes). */
function esc(v: string | null): string {
  if (v === null) return '\\N';
  return v.replace(/[\\\t\n\r\b\f\0']/g, (c) => {
    const named: Record<string, string> = { '\t': 't', '\n': 'n', '\r': 'r', '\b': 'b', '\f': 'f' };
    return c === '\0' ? '\\0' : `\\${named[c] ?? c}`;
  });
}

/** The generic path: parse into string rows, then the reference conversion. */
const generic = (text: string) => parseTsvWithNames(text).map(costPerPrRow);

/** xorshift: reproducible pseudo-random integers, no Math.random. */
function rng(seed: bigint): () => bigint {
  let x = seed;
  return () => {
    x ^= (x << 13n) & 0xffffffffffffffffn;
    x ^= x >> 7n;
    x ^= (x << 17n) & 0xffffffffffffffffn;
    return x;
  };
}

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER) + 1n;
const STRINGS = [
  '',
  'acme/api',
  'ünïcødé/репо-名前',
  'emoji 🚀 / 𝔘',
  'tab\there',
  'new\nline',
  'back\\slash \\N',
  "quote ' and \r\b\f\0",
  '\\N',
];

describe('readCostPerPrTsv (cost-per-pr rows straight from the TSV text)', () => {
  it('gives exactly the generic path on generated rows with edge values', () => {
    const next = rng(0x9e3779b97f4a7c15n);
    const ints = (): string => {
      const r = next();
      const pick = Number(r % 8n);
      // zero, small, 15 and 16 digits, 2^53 ± 1, UInt64 max: huge token counts round as Number() does
      return [
        '0',
        String(r % 1000n),
        String(r % 10n ** 15n),
        String(10n ** 15n + (r % 10n ** 15n)),
        String(MAX_EXACT - 1n),
        String(MAX_EXACT + 1n),
        '18446744073709551615',
        String(r % 100_000_000n),
      ][pick] as string;
    };
    const money = (): string => {
      const r = next();
      const pick = Number(r % 9n);
      return [
        '0',
        '1',
        '-1',
        '999999999', // many decimals: $0.999999999
        String(r % 10n ** 15n),
        `-${String((r % 10n ** 15n) + 1n)}`,
        String(MAX_EXACT + (r % 1000n)), // beyond 2^53: the BigInt path
        '-9223372036854775808',
        '123456789012345',
      ][pick] as string;
    };
    const str = (): string | null => STRINGS[Number(next() % BigInt(STRINGS.length))] ?? null;
    const lines: string[] = [COST_PER_PR_COLUMNS.join('\t')];
    for (let i = 0; i < 3_000; i++) {
      const pr = i % 7 === 0 ? '0' : ints();
      const state = ['open', 'merged', 'closed', '', 'draft', '\\N'][i % 6] as string;
      lines.push(
        [
          esc(str() ?? ''),
          pr,
          ints(),
          ints(),
          ints(),
          ints(),
          ints(),
          ints(),
          ints(),
          ints(),
          money(),
          ints(),
          ints(),
          money(),
          i % 11 === 0 ? '' : '2026-11-01 00:00:00',
          '2026-11-02 13:00:00',
          esc(i % 5 === 0 ? '' : 'branch,explicit'),
          state,
          i % 3 === 0 ? '\\N' : '2026-11-03 00:00:00.123',
        ].join('\t'),
      );
    }
    const text = lines.join('\n') + '\n';
    const rows = readCostPerPrTsv(text);
    expect(rows).toHaveLength(3_000);
    expect(rows).toEqual(generic(text));
    // Key order is part of the JSON the server sends.
    expect(JSON.stringify(rows)).toBe(JSON.stringify(generic(text)));
    // and without the last newline
    expect(readCostPerPrTsv(text.slice(0, -1))).toEqual(rows);
  });

  it('reads non-canonical or NULL cells as the generic path does', () => {
    const row = [
      'a',
      '\\N',
      '007',
      '-0',
      '\\N',
      '',
      '1e3',
      '12',
      '12',
      '12',
      '0007',
      '\\N',
      '',
      '-0',
      '\\N',
      '',
      '\\N',
      '\\N',
      '',
    ];
    const text = `${COST_PER_PR_COLUMNS.join('\t')}\n${row.join('\t')}\n`;
    const [r] = readCostPerPrTsv(text);
    expect(r).toEqual(generic(text)[0]);
    expect(r).toMatchObject({ pr: null, sessions: 7, cost_nanos: '7', wasted_cost_nanos: '0' });
    expect(r?.state).toBeNull();
    expect(r?.merged_at).toBe('');
  });

  it('reads no rows as none, and refuses columns it was not made for', () => {
    expect(readCostPerPrTsv('')).toEqual([]);
    expect(readCostPerPrTsv(`${COST_PER_PR_COLUMNS.join('\t')}\n`)).toEqual([]);
    expect(() => readCostPerPrTsv('repo\tpr\nacme\t1\n')).toThrow(/reader .* disagree/);
  });
});
