import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/src/config.js';
import { startEmbedded, type RunningServer } from '../../pipeline/src/embedded.js';
import { silentLogger } from '../../pipeline/src/logger.js';
import { otlpJson, type SimpleSpan } from '../helpers/otlp-json.js';
import { tempDataDir } from '../helpers/store.js';

const DB = 'hm_waste';
let server: RunningServer;
beforeAll(async () => {
  server = await startEmbedded(
    loadConfig(
      {},
      {
        port: 0,
        dataDir: tempDataDir('waste'),
        database: DB,
        batchMaxWaitMs: 10,
        detectIdleMs: 3_600_000,
      },
    ),
    silentLogger,
  );
});
afterAll(async () => {
  await server.stop();
});

const T0 = Date.now() - 600_000;
const session = {
  'gen_ai.conversation.id': 'waste-1',
  'user.id': 'ana',
  'vcs.repository.url.full': 'https://github.com/acme/api',
  'vcs.change.id': '9',
};
const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0');
const llm = (
  i: number,
  sec: number,
  input: number,
  cacheRead: number,
  output: number,
  cacheWrite = 0,
  ctx: Record<string, string> = session,
): SimpleSpan => ({
  traceId: hex(77, 32),
  spanId: hex(i, 16),
  name: 'chat claude-sonnet-4-5',
  startMs: T0 + sec * 1000,
  attributes: {
    ...ctx,
    'gen_ai.usage.cache_creation.input_tokens': cacheWrite,
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'anthropic',
    'gen_ai.request.model': 'claude-sonnet-4-5',
    'gen_ai.usage.input_tokens': input,
    'gen_ai.usage.cache_read.input_tokens': cacheRead,
    'gen_ai.usage.output_tokens': output,
  },
});
const read = (i: number, sec: number, ctx: Record<string, string> = session): SimpleSpan => ({
  traceId: hex(77, 32),
  spanId: hex(i, 16),
  name: 'execute_tool Read',
  startMs: T0 + sec * 1000,
  attributes: {
    ...ctx,
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': 'Read',
    'harness_meter.tool.class': 'read',
    'harness_meter.tool.args_hash': 'a'.repeat(64),
    'harness_meter.tool.target_hash': 'b'.repeat(64),
    'harness_meter.tool.result_tokens': 800,
  },
});
const post = (spans: SimpleSpan[]): Promise<Response> =>
  fetch(`${server.receiver.url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: otlpJson(spans),
  });
const api = async (path: string): Promise<Record<string, unknown>[]> =>
  (
    (await (await fetch(`${server.receiver.url}/api/v1/reports/${path}`)).json()) as {
      rows: Record<string, unknown>[];
    }
  ).rows;

describe('waste: redundancy findings through the embedded server (chDB)', () => {
  it('finds the re-read, prices it by hand, and shows it on the PR; a rescan changes nothing', async () => {
    expect(
      (
        await post([
          llm(1, 0, 1000, 0, 200),
          read(2, 1),
          llm(3, 2, 2000, 1000, 100),
          read(4, 3),
          llm(5, 4, 3000, 2000, 50),
          llm(6, 5, 3500, 3000, 20),
        ])
      ).status,
    ).toBe(200);
    // Sonnet 4.5 list prices ($/MTok): input 3, cache read 0.30, output 15.
    // direct: 800 result tokens × 3,000 nano (paid as input by the next call) + 100 issue tokens × 15,000 nano = 2,400,000 + 1,500,000
    // carried: the later call (span 6) re-sends 800 tokens from the cache: 800 × 300 nano = 240,000
    const expected = {
      key: 're_read',
      occurrences: 1,
      wasted_tokens: 900,
      carried_tokens: 800,
      direct_cost_nanos: '3900000',
      carried_cost_nanos: '240000',
      cost_nanos: '4140000',
    };
    expect(await api('waste?by=kind')).toEqual([expect.objectContaining(expected)]);
    expect(await api('waste?by=kind')).toEqual([expect.objectContaining(expected)]);
    const pr = (await api('cost-per-pr')).find((r) => r.pr === 9);
    expect(pr).toMatchObject({ wasted_tokens: 900, wasted_cost_nanos: '4140000' });
  });

  it('rescans a session whose spans changed: a later compaction-free read adds a finding', async () => {
    expect((await post([read(7, 6), llm(8, 7, 4000, 3500, 10)])).status).toBe(200);
    const rows = await api('waste?by=session');
    expect(rows).toEqual([expect.objectContaining({ key: 'waste-1', occurrences: 2 })]);
    const scans = await server.client.query({
      query: `SELECT count() AS n FROM ${DB}.session_scans`,
      format: 'JSONEachRow',
    });
    expect(await scans.json()).toEqual([{ n: '2' }]);
  });

  it('waste --by call lists each finding with the span it repeats, kind, reason and dollars', async () => {
    const rows = await api('waste?by=call');
    expect(rows.map((r) => [r.span_id, r.repeats_span_id, r.kind])).toEqual([
      [hex(7, 16), hex(2, 16), 're_read'],
      [hex(4, 16), hex(2, 16), 're_read'],
    ]);
    expect(rows[1]).toMatchObject({
      session_id: 'waste-1',
      tool_name: 'Read',
      direct_cost_nanos: '3900000',
      fully_priced: true,
    });
    expect(String(rows[1]?.reason)).toContain(hex(2, 16));
  });

  it('prices the redundant result at the cache-write price when the next call wrote it to the cache', async () => {
    const other = { ...session, 'gen_ai.conversation.id': 'waste-2' };
    expect(
      (
        await post([
          read(20, 20, other),
          llm(21, 21, 1000, 0, 0, 0, other),
          read(22, 22, other),
          llm(23, 23, 2000, 1000, 0, 800, other), // wrote the 800 result tokens to the cache
        ])
      ).status,
    ).toBe(200);
    const [f] = (await api('waste?by=call')).filter((r) => r.session_id === 'waste-2');
    // Sonnet 4.5 cache write (5 minutes): $3.75/MTok = 3,750 nano-USD per token; no issue tokens
    expect(f).toMatchObject({ span_id: hex(22, 16), direct_cost_nanos: String(800 * 3750) });
  });
});
