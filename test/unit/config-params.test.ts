import { describe, expect, it } from 'vitest';
import { formatUsd } from '@harness-meter/queries';
import { DEFAULTS, loadConfig } from '../../pipeline/src/config.js';
import { parseDimension, parseTime, parseWindow } from '../../pipeline/src/report/params.js';
import { formatRows } from '../../pipeline/src/report/format.js';
import {
  encodeExportResponseJson,
  encodeExportResponseProto,
  encodeStatusProto,
} from '../../pipeline/src/ingest/otlp-response.js';

describe('configuration from the environment', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 4318,
      database: 'harness_meter',
      maxBodyBytes: DEFAULTS.maxBodyBytes,
      apiUrl: 'http://127.0.0.1:4318',
    });
    expect(c.clickhouseUrl).toBeUndefined();
    expect(c.dataDir.endsWith('.harness-meter')).toBe(true);
  });
  it('reads HM_CHDB_INSERT_FORMAT: rowbinary by default, compact on request, anything else refused', () => {
    expect(loadConfig({}).chdbInsertFormat).toBe('rowbinary');
    expect(loadConfig({ HM_CHDB_INSERT_FORMAT: 'Compact' }).chdbInsertFormat).toBe('compact');
    expect(() => loadConfig({ HM_CHDB_INSERT_FORMAT: 'native' })).toThrow(
      /HM_CHDB_INSERT_FORMAT="native" is not valid: use rowbinary .* or compact/,
    );
  });
  it('names the variable and an example when a value is malformed', () => {
    expect(() => loadConfig({ HM_PORT: '99999' })).toThrow(
      /HM_PORT="99999" is not valid.*HM_PORT=4318/,
    );
    expect(() => loadConfig({ HM_CLICKHOUSE_URL: 'localhost:8123' })).toThrow(
      /HM_CLICKHOUSE_URL.*http:\/\/localhost:8123/,
    );
    expect(() => loadConfig({ HM_CLICKHOUSE_DATABASE: 'x;drop' })).toThrow(
      /HM_CLICKHOUSE_DATABASE/,
    );
    expect(() => loadConfig({ HM_LOG_LEVEL: 'loud' })).toThrow(/HM_LOG_LEVEL/);
  });
  it('reads the ingest write-ahead log: off by default, on under the data folder, or a folder', () => {
    expect(loadConfig({}).ingestWal.dir).toBeUndefined();
    expect(loadConfig({ HM_INGEST_WAL: 'off' }).ingestWal.dir).toBeUndefined();
    expect(loadConfig({ HM_DATA_DIR: '/srv/hm', HM_INGEST_WAL: 'on' }).ingestWal.dir).toBe(
      '/srv/hm/ingest-wal',
    );
    expect(loadConfig({ HM_INGEST_WAL: '/var/lib/hm-wal' }).ingestWal.dir).toBe('/var/lib/hm-wal');
    expect(loadConfig({}).ingestWal.maxBytes).toBe(512 * 1024 * 1024);
    expect(loadConfig({ HM_INGEST_WAL_MAX_BYTES: '2097152' }).ingestWal.maxBytes).toBe(2_097_152);
    expect(() => loadConfig({ HM_INGEST_WAL_MAX_BYTES: '10' })).toThrow(
      /HM_INGEST_WAL_MAX_BYTES="10" is not valid/,
    );
  });
  it('derives the API URL from host and port', () => {
    expect(loadConfig({ HM_HOST: '0.0.0.0', HM_PORT: '5000' }).apiUrl).toBe(
      'http://127.0.0.1:5000',
    );
  });
});

describe('report parameters', () => {
  const now = new Date('2026-11-24T12:00:00Z');
  it('parses dates, date-times, now and durations back from now', () => {
    expect(parseTime('2026-11-01', 'since', now).toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(parseTime('2026-11-01T09:30:00', 'since', now).toISOString()).toBe(
      '2026-11-01T09:30:00.000Z',
    );
    expect(parseTime('2026-11-01T09:30:00+02:00', 'since', now).toISOString()).toBe(
      '2026-11-01T07:30:00.000Z',
    );
    expect(parseTime('24h', 'since', now).toISOString()).toBe('2026-11-23T12:00:00.000Z');
    expect(parseTime('7d', 'since', now).toISOString()).toBe('2026-11-17T12:00:00.000Z');
    expect(parseTime('now', 'until', now)).toEqual(now);
  });
  it('rejects what is not a time, and empty windows', () => {
    expect(() => parseTime('yesterday', 'since', now)).toThrow(/since="yesterday" is not a time/);
    expect(() => parseWindow('2026-11-10', '2026-11-01', now)).toThrow(/must be before/);
    expect(() => parseDimension('planet')).toThrow(/use one of developer, team/);
    expect(parseDimension(undefined)).toBe('developer');
  });
});

describe('money and output formats', () => {
  it('formats nano-USD exactly', () => {
    expect(formatUsd(4_455_000n)).toBe('0.004455000');
    expect(formatUsd(4_455_000n, 4)).toBe('0.0045');
    expect(formatUsd(1_234_567_890_123n, 2)).toBe('1234.57');
    expect(formatUsd(-5n, 9)).toBe('-0.000000005');
  });
  it('renders csv with escaping and a table with totals and the unpriced count', () => {
    const rows = [
      {
        repo: 'a,b',
        pr: 1,
        sessions: 1,
        llm_calls: 2,
        tool_calls: 0,
        input_tokens: 10,
        output_tokens: 5,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
        cost_nanos: '1500000000',
        cost_usd: 1.5,
        unpriced_calls: 1,
      },
      {
        repo: 'c',
        pr: null,
        sessions: 1,
        llm_calls: 1,
        tool_calls: 3,
        input_tokens: 1,
        output_tokens: 1,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
        cost_nanos: '250000000',
        cost_usd: 0.25,
        unpriced_calls: 0,
      },
    ];
    const csv = formatRows('cost-per-pr', rows, 'csv');
    // issue 14: machine output says whether every call was priced (cost_complete).
    expect(csv.split('\n')[1]).toBe('"a,b",1,1,2,0,10,5,0,0,1500000000,1.5,1,false');
    const table = formatRows('cost-per-pr', rows, 'table');
    expect(table).toContain('(none)');
    expect(table).toContain('#1');
    // issue 14: a totals row (≥: some calls unpriced) instead of a "total:" footer.
    expect(table).toMatch(/^total\s+≥\$1\.7500\s+3\s+11\s+6\b/m);
    expect(table).toContain('1 LLM call(s) unpriced');
    expect(
      (JSON.parse(formatRows('cost-per-pr', rows, 'json')) as { rows: unknown[] }).rows,
    ).toEqual([
      { ...rows[0], cost_complete: false },
      { ...rows[1], cost_complete: true },
    ]);
  });
});

describe('OTLP responses', () => {
  it('is empty on full success and carries partial_success otherwise', () => {
    expect(encodeExportResponseProto()).toEqual(new Uint8Array(0));
    expect(encodeExportResponseJson()).toBe('{}');
    // field 1 (len 6): field 1 varint 2, field 2 string "ab"
    expect([...encodeExportResponseProto({ rejected: 2, message: 'ab' })]).toEqual([
      0x0a, 6, 0x08, 2, 0x12, 2, 0x61, 0x62,
    ]);
    expect(JSON.parse(encodeExportResponseJson({ rejected: 2, message: 'ab' }))).toEqual({
      partialSuccess: { rejectedSpans: '2', errorMessage: 'ab' },
    });
    expect([...encodeStatusProto(3, 'x')]).toEqual([0x08, 3, 0x12, 1, 0x78]);
  });
});
