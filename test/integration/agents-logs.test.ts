import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/src/config.js';
import { otlpType } from '../../pipeline/src/decode/proto.js';
import { startEmbedded, type RunningServer } from '../../pipeline/src/embedded.js';
import { silentLogger } from '../../pipeline/src/logger.js';
import { tempDataDir } from '../helpers/store.js';

const DB = 'hm_agents';
let server: RunningServer;
const fixture = readFileSync(
  new URL('../fixtures/agents/claude-code-logs.json', import.meta.url),
  'utf8',
);

beforeAll(async () => {
  server = await startEmbedded(
    loadConfig(
      {},
      {
        port: 0,
        dataDir: tempDataDir('agents'),
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

const api = async (path: string): Promise<Record<string, unknown>[]> =>
  (
    (await (await fetch(`${server.receiver.url}/api/v1/reports/${path}`)).json()) as {
      rows: Record<string, unknown>[];
    }
  ).rows;

describe("Claude Code's own telemetry (OTLP log events), no code on the agent side", () => {
  it('maps API requests and tool results to records: tokens, computed and reported cost, tools, session, repo', async () => {
    const res = await fetch(`${server.receiver.url}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: fixture,
    });
    expect(res.status).toBe(200);
    // Sent again as protobuf: the same events, counted once.
    const type = otlpType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
    const proto = type
      .encode(type.fromObject(JSON.parse(fixture) as Record<string, unknown>))
      .finish();
    expect(
      (
        await fetch(`${server.receiver.url}/v1/logs`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-protobuf' },
          body: proto,
        })
      ).status,
    ).toBe(200);

    const since = 'since=2025-11-01&until=2025-12-01';
    const [session] = await api(`cost?by=session&${since}`);
    // Claude Code's input_tokens excludes cache: input = 200 + 10,000 + 2,000 and 100 + 12,000 + 0.
    // Sonnet 4.5 ($/MTok 3 / 0.30 / 3.75 / 15):
    //   200 × 3,000 + 10,000 × 300 + 2,000 × 3,750 + 500 × 15,000 = 18,600,000
    //   100 × 3,000 + 12,000 × 300 + 0 + 300 × 15,000              =  8,400,000
    expect(session).toMatchObject({
      key: 'cc-session-1',
      llm_calls: 2,
      tool_calls: 3,
      input_tokens: 24_300,
      output_tokens: 800,
      cache_read_tokens: 22_000,
      cache_write_tokens: 2000,
      cost_nanos: '27000000',
      unpriced_calls: 0,
    });
    const [bySource] = await api(`cost?by=source&${since}`);
    expect(bySource).toMatchObject({ key: 'claude-code', llm_calls: 2 });
    const [pr] = (await api(`cost-per-pr?${since}`)).filter((r) => r.pr === 101);
    expect(pr).toMatchObject({ repo: 'https://github.com/acme/payments-api', llm_calls: 2 });

    // The reported cost is kept beside the computed one.
    const rs = await server.client.query({
      query: `SELECT toString(sum(reported_cost_nanos)) AS reported, toString(sum(cost_nanos)) AS computed, countIf(mapContains(SpanAttributes, 'tool_parameters') OR mapContains(SpanAttributes, 'prompt') OR mapContains(SpanAttributes, 'error')) AS raw FROM ${DB}.spans FINAL`,
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([{ reported: '27000000', computed: '27000000', raw: '0' }]);

    // Tool parameters were hashed (paths normalized), so the second read of the same file is a re-read.
    expect(await api(`waste?by=tool&${since}`)).toEqual([
      expect.objectContaining({ key: 'Read', occurrences: 1 }),
    ]);
  });

  it("cross-checks Claude Code's usage metrics against its events, without counting them as spend", async () => {
    const start = '1763974700000000000';
    const point = (type: string, value: number, time: string) => ({
      startTimeUnixNano: start,
      timeUnixNano: time,
      asDouble: value,
      attributes: [
        { key: 'session.id', value: { stringValue: 'cc-session-1' } },
        { key: 'model', value: { stringValue: 'claude-sonnet-4-5-20250929' } },
        ...(type ? [{ key: 'type', value: { stringValue: type } }] : []),
      ],
    });
    // Cumulative counters, exported twice: the second export carries the totals (not to be added to the first).
    const body = (t: string, k: number) =>
      JSON.stringify({
        resourceMetrics: [
          {
            resource: {
              attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }],
            },
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: 'claude_code.token.usage',
                    sum: {
                      aggregationTemporality: 2,
                      isMonotonic: true,
                      dataPoints: [
                        point('input', 300 * k, t),
                        point('output', 800 * k, t),
                        point('cacheRead', 22_000 * k, t),
                        point('cacheCreation', 2000 * k, t),
                      ],
                    },
                  },
                  {
                    name: 'claude_code.cost.usage',
                    sum: {
                      aggregationTemporality: 2,
                      isMonotonic: true,
                      dataPoints: [point('', 0.027 * k, t)],
                    },
                  },
                  {
                    name: 'claude_code.session.count',
                    sum: { aggregationTemporality: 2, dataPoints: [point('', 1, t)] },
                  },
                ],
              },
            ],
          },
        ],
      });
    for (const [t, k] of [
      ['1763974805000000000', 0.5],
      ['1763974865000000000', 1],
    ] as const) {
      const res = await fetch(`${server.receiver.url}/v1/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body(t, k),
      });
      expect(res.status).toBe(200);
    }
    const [check] = await api('metrics-check?since=2025-11-01&until=2025-12-01');
    expect(check).toMatchObject({
      session_id: 'cc-session-1',
      source: 'claude-code',
      metric_input_tokens: 300,
      event_input_tokens: 300,
      metric_output_tokens: 800,
      metric_cache_read_tokens: 22_000,
      metric_cache_creation_tokens: 2000,
      metric_cost_nanos: '27000000',
      event_reported_cost_nanos: '27000000',
      status: 'match',
    });
    // The metrics are not spend: the session's cost is still its events' cost.
    const [session] = await api('cost?by=session&since=2025-11-01&until=2025-12-01');
    expect(session).toMatchObject({ cost_nanos: '27000000', llm_calls: 2 });
  });

  it('keeps malformed bodies out with a 400 and goes on', async () => {
    const bad = await fetch(`${server.receiver.url}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"resourceLogs": 5}',
    });
    expect(bad.status).toBe(400);
    expect(
      (
        await fetch(`${server.receiver.url}/v1/logs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: fixture,
        })
      ).status,
    ).toBe(200);
  });
});
