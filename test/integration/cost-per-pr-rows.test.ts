import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '@harness-meter/queries';
import { COST_PER_PR_COLUMNS, readCostPerPrTsv } from '../../queries/src/cost-per-pr-rows.js';
import { costPerPrRow, type RawRow } from '../../queries/src/reports.js';
import { openTempStore } from '../helpers/store.js';

/**
 * cost-per-pr's own TSV reader on text chDB formats (its escaping of tabs, newlines, backslashes and
 * unicode; NULLs; 64-bit extremes), against JSONEachRow read by the generic conversion: two formats,
 * two readers, one answer.
 */
let client: ClickHouseClient;
let dataDir: string;

beforeAll(async () => {
  ({ client, dataDir } = await openTempStore('cost-per-pr-rows'));
});
afterAll(async () => {
  await client.close();
  rmSync(dataDir, { recursive: true, force: true });
});

// Rows built from numbers(): strings with escapes and unicode, zero and huge counts, nano-dollars on
// both sides of 2^53 and negative, nullable state and merged_at as a LEFT JOIN leaves them.
const EDGE_ROWS = `
SELECT
    ['', 'acme/api', 'ünïcødé/репо-名前', 'emoji 🚀 𝔘', 'tab\\there', 'new\\nline', 'back\\\\slash \\\\N', 'q''uote']
        [n % 8 + 1] AS repo,
    toUInt32(if(n % 5 = 0, 0, n * 7919 % 100000)) AS pr,
    toUInt64(n) AS sessions,
    toUInt64(if(n % 3 = 0, 18446744073709551615, n * 1000003)) AS llm_calls,
    toUInt64(n % 2) AS tool_calls,
    toUInt64(if(n % 4 = 0, 9007199254740993, n * 123456789)) AS input_tokens,
    toUInt64(0) AS output_tokens,
    toUInt64(n * 999999937) AS cache_read_tokens,
    toUInt64(1) AS cache_write_tokens,
    toUInt64(n * 13) AS reasoning_tokens,
    toString([toInt64(0), toInt64(1), toInt64(-1), toInt64(999999999), toInt64(123456789012345),
              toInt64(9007199254740993), toInt64(-9223372036854775808), toInt64(n * 1000000007)][n % 8 + 1]) AS cost_nanos,
    toUInt64(n % 3) AS unpriced_calls,
    toUInt64(n * 77) AS wasted_tokens,
    toString(toInt64(n * 333333333) - 5000000000) AS wasted_cost_nanos,
    toString(toDateTime('2026-11-01 00:00:00', 'UTC') + toIntervalHour(n)) AS first_seen,
    toString(toDateTime('2026-11-02 00:00:00', 'UTC') + toIntervalHour(n)) AS last_seen,
    ['', 'branch', 'branch,explicit', 'commit,trailer,unattributed'][n % 4 + 1] AS rules,
    if(n % 6 = 0, NULL, ['open', 'merged', 'closed', '', 'draft'][n % 5 + 1]) AS state,
    if(n % 3 = 0, NULL, toString(toDateTime64('2026-11-03 00:00:00.123', 3, 'UTC') + toIntervalMinute(n))) AS merged_at
FROM (SELECT number AS n FROM numbers(2000))
ORDER BY n`;

describe("cost-per-pr's TSV reader on chDB's text", () => {
  it('reads the rows JSONEachRow gives, field for field', async () => {
    const text = await (
      await client.query({ query: EDGE_ROWS, format: 'TabSeparatedWithNames' })
    ).text();
    const json = await (
      await client.query({ query: EDGE_ROWS, format: 'JSONEachRow' })
    ).json<RawRow>();
    const rows = readCostPerPrTsv(text);
    expect(Object.keys(json[0] ?? {})).toEqual([...COST_PER_PR_COLUMNS]);
    expect(rows).toHaveLength(2000);
    expect(rows).toEqual(json.map(costPerPrRow));
    expect(JSON.stringify(rows)).toBe(JSON.stringify(json.map(costPerPrRow)));
    expect(rows.some((r) => r.repo.includes('\t') && r.repo.includes('tab'))).toBe(true);
    expect(rows.some((r) => r.repo === 'emoji 🚀 𝔘')).toBe(true);
    expect(rows.some((r) => r.cost_nanos === '-9223372036854775808')).toBe(true);
  });
});
