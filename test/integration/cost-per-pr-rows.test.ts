import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '@harness-meter/queries';
import {
  COST_PER_PR_COLUMNS,
  readCostPerPrRowBinary,
  readCostPerPrTsv,
} from '../../queries/src/cost-per-pr-rows.js';
import { runReportBytes } from '../../queries/src/report-sql.js';
import { costPerPrRow, reportSql, type RawRow } from '../../queries/src/reports.js';
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

/** The outer projection of a report file (its first SELECT up to its outer FROM). */
function projection(file: string): string {
  const sql = reportSql(file);
  return sql.slice(sql.indexOf('SELECT'), sql.search(/\nFROM[ \n]\(/));
}

// The per-PR values as the totals and the join give them (c: pr_linked_totals' types, f: pr_state's),
// at their edges: 64-bit extremes and 2^53 ± 1 nano-dollars, every rule_bits value, DateTime's and
// DateTime64's ends (before 1970 with milliseconds too), PRs without state (the LEFT JOIN's defaults),
// repository names that repeat, share length and end bytes, or are long and unicode.
const EDGE_VALUES = `
FROM (
    SELECT
        concat('k', toString(n)) AS repo_key,
        ['', 'acme/api', 'acme/aqi', 'ünïcødé/репо-名前', 'emoji 🚀 𝔘', 'tab\there', 'new\nline',
         repeat('ü-long/', 30), 'back\\slash \\N'][n % 9 + 1] AS repo,
        toUInt32(if(n % 5 = 0, 0, n * 7919 % 100000)) AS link_pr,
        toUInt64(n) AS sessions,
        toUInt64(if(n % 3 = 0, 18446744073709551615, n * 1000003)) AS llm_calls,
        toUInt64(n % 2) AS tool_calls,
        toUInt64(if(n % 4 = 0, 9007199254740993, n * 123456789)) AS input_tokens,
        toUInt64(0) AS output_tokens,
        toUInt64(n * 999999937) AS cache_read_tokens,
        toUInt64(1) AS cache_write_tokens,
        toUInt64(n * 13) AS reasoning_tokens,
        [toInt64(0), toInt64(1), toInt64(-1), toInt64(999999999), toInt64(123456789012345),
         toInt64(9007199254740992), toInt64(9007199254740993), toInt64(-9007199254740992),
         toInt64(-9007199254740993), toInt64(-9223372036854775808), toInt64(9223372036854775807),
         toInt64(n * 1000000007)][n % 12 + 1] AS cost_nanos,
        toInt64(n % 3) - 1 AS unpriced_calls,
        toUInt64(n * 77) AS wasted_tokens,
        toInt64(n * 333333333) - 5000000000 AS wasted_cost_nanos,
        [toDateTime(0, 'UTC'), toDateTime(4294967295, 'UTC'),
         toDateTime('2026-11-01 00:00:00', 'UTC') + toIntervalSecond(n * 3607)][n % 3 + 1] AS first_hour,
        toDateTime('2026-11-02 00:00:00', 'UTC') + toIntervalHour(n) AS last_hour,
        toUInt8(n % 256) AS rule_bits
    FROM (SELECT number AS n FROM numbers(2000))
) AS c
LEFT JOIN (
    SELECT
        concat('k', toString(n)) AS repo,
        toUInt32(if(n % 5 = 0, 0, n * 7919 % 100000)) AS pr,
        toLowCardinality(['open', 'merged', 'closed', '', 'draft'][intDiv(n, 5) % 5 + 1]) AS state,
        if(n % 3 = 0, NULL,
           [toDateTime64('1900-01-01 00:00:00.000', 3, 'UTC'), toDateTime64('2299-12-31 23:59:59.999', 3, 'UTC'),
            toDateTime64('1969-12-31 23:59:59.001', 3, 'UTC'),
            toDateTime64('2026-11-03 00:00:00.123', 3, 'UTC') + toIntervalMillisecond(n * 60013)][n % 4 + 1]
        ) :: Nullable(DateTime64(3, 'UTC')) AS merged_at
    FROM (SELECT number AS n FROM numbers(2000)) WHERE n % 7 != 0
) AS f ON c.repo_key = f.repo AND c.link_pr = f.pr
ORDER BY c.cost_nanos DESC, c.repo, c.link_pr, c.sessions`;

describe("cost-per-pr's RowBinary reader", () => {
  it("reads cost_per_pr_totals.sql's binary projection as the text projection's rows", async () => {
    const textSql = `${projection('cost_per_pr.sql')}\n${EDGE_VALUES}`;
    const binarySql = `${projection('cost_per_pr_totals.sql')}\n${EDGE_VALUES}`;
    const text = await (
      await client.query({ query: textSql, format: 'TabSeparatedWithNames' })
    ).text();
    const json = await (
      await client.query({ query: textSql, format: 'JSONEachRow' })
    ).json<RawRow>();
    const rs = await client.exec({ query: `${binarySql}\nFORMAT RowBinaryWithNamesAndTypes` });
    const chunks: Buffer[] = [];
    for await (const chunk of rs.stream) chunks.push(chunk as Buffer);
    const rows = readCostPerPrRowBinary(Buffer.concat(chunks));
    expect(rows).toHaveLength(2000);
    expect(rows).toEqual(readCostPerPrTsv(text));
    expect(rows).toEqual(json.map(costPerPrRow));
    expect(JSON.stringify(rows)).toBe(JSON.stringify(json.map(costPerPrRow)));
    // The edges were there.
    expect(rows.some((r) => r.cost_nanos === '-9223372036854775808')).toBe(true);
    expect(rows.some((r) => r.cost_nanos === '9007199254740993')).toBe(true);
    expect(rows.some((r) => r.first_seen === '2106-02-07 06:28:15')).toBe(true);
    expect(rows.some((r) => r.merged_at === '1969-12-31 23:59:59.001')).toBe(true);
    expect(rows.some((r) => r.repo === 'acme/aqi') && rows.some((r) => r.repo === 'acme/api')).toBe(
      true,
    );
    expect(new Set(rows.map((r) => r.rules)).size).toBe(32);
    expect(new Set(rows.map((r) => r.state))).toEqual(
      new Set([null, 'open', 'merged', 'closed', 'unknown']),
    );
  });

  it("refuses a result whose columns or types are not the reader's, and one cut short", async () => {
    const bytes = await runReportBytes(
      client,
      'cost-per-pr',
      'cost_per_pr_totals.sql',
      {
        db: 'system',
        since: '2026-01-01 00:00:00.000',
        until: '2026-01-02 00:00:00.000',
        span_since: '2026-01-01 00:00:00.000',
      },
      undefined,
      'RowBinaryWithNamesAndTypes',
    ).catch((e: unknown) => e);
    // No such tables in `system`: a typed report error, not a crash.
    expect(bytes).toMatchObject({ code: 'QUERY_FAILED' });
    const other = await client.exec({
      query: `SELECT toString(1) AS repo FORMAT RowBinaryWithNamesAndTypes`,
    });
    const chunks: Buffer[] = [];
    for await (const chunk of other.stream) chunks.push(chunk as Buffer);
    expect(() => readCostPerPrRowBinary(Buffer.concat(chunks))).toThrow(/disagree/);
    const rs = await client.exec({
      query: `${projection('cost_per_pr_totals.sql')}\n${EDGE_VALUES}\nFORMAT RowBinaryWithNamesAndTypes`,
    });
    const all: Buffer[] = [];
    for await (const chunk of rs.stream) all.push(chunk as Buffer);
    const whole = Buffer.concat(all);
    expect(() => readCostPerPrRowBinary(whole.subarray(0, whole.length - 3))).toThrow(
      /ends inside/,
    );
  });
});
