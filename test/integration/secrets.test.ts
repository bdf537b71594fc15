import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelemetry } from '@harness-meter/instrumentation';
import { loadConfig } from '../../pipeline/src/config.js';
import { startEmbedded, type RunningServer } from '../../pipeline/src/embedded.js';
import { silentLogger } from '../../pipeline/src/logger.js';
import { CANARY, SECRETS, type SecretCase } from '../fixtures/secrets/catalogue.js';
import { queryRows } from '../helpers/server.js';
import { tempDataDir } from '../helpers/store.js';

const db = `hm_sec_${randomUUID().slice(0, 8)}`;
const NOW_NS = 1_764_000_000_000_000_000n;
let server: RunningServer;

beforeAll(async () => {
  server = await startEmbedded(
    loadConfig(
      { HM_ALERTS: 'off' },
      { port: 0, dataDir: tempDataDir('secrets'), database: db, batchMaxWaitMs: 10 },
    ),
    silentLogger,
  );
});
afterAll(() => server.stop());

const kv = (o: Record<string, string>) =>
  Object.entries(o).map(([key, v]) => ({ key, value: { stringValue: v } }));

async function post(path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${server.receiver.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status, path).toBe(200);
  return res.json();
}

/** Through the SDK, as a harness uses it: tool arguments, results and errors holding the secret. */
async function viaSdk(captureContent: boolean): Promise<void> {
  const tel = startTelemetry({
    serviceName: `secrets-sdk-${captureContent ? 'on' : 'off'}`,
    endpoint: `${server.receiver.url}/v1/traces`,
    captureContent,
  });
  await tel.withSession(
    { sessionId: `sdk-${String(captureContent)}`, developer: 'ana' },
    async () => {
      for (const s of SECRETS) {
        await tel.toolCall(
          { name: 'Bash', args: { command: `${CANARY} ${s.text}` } },
          async () => `${CANARY} out ${s.text}`,
        );
        await tel
          .toolCall({ name: 'Bash', args: { command: s.text } }, async () => {
            throw new Error(`${CANARY} failed: ${s.text}`);
          })
          .catch(() => undefined);
      }
    },
  );
  await tel.shutdown();
}

/** Raw OTLP from a producer that redacts nothing: every free-text place of a span. */
function rawOtlp(s: SecretCase, i: number) {
  const id = (i + 1).toString(16).padStart(12, '0');
  return {
    resourceSpans: [
      {
        resource: {
          attributes: kv({ 'service.name': 'raw-producer', 'deploy.note': `${CANARY} ${s.text}` }),
        },
        scopeSpans: [
          {
            scope: { name: 'raw' },
            spans: [
              {
                traceId: `5ec0${id}${'0'.repeat(16)}`,
                spanId: `5ec0${id}`,
                name: `execute_tool Bash ${s.text}`,
                kind: 1,
                startTimeUnixNano: String(NOW_NS + BigInt(i)),
                endTimeUnixNano: String(NOW_NS + BigInt(i) + 1000n),
                attributes: kv({
                  'gen_ai.operation.name': 'execute_tool',
                  'gen_ai.tool.name': 'Bash',
                  'gen_ai.tool.call.arguments': JSON.stringify({ command: `${CANARY} ${s.text}` }),
                  'gen_ai.tool.call.result': s.text,
                  'exception.message': s.text,
                  'custom.note': `${CANARY} ${s.text}`,
                }),
                status: { code: 2, message: `${CANARY} ${s.text}` },
              },
            ],
          },
        ],
      },
    ],
  };
}

/** Agents' own events (Claude Code and Codex OTLP logs) with the secret in known and unknown fields. */
function agentLogs(s: SecretCase, i: number) {
  const t = String(NOW_NS + BigInt(i) * 1_000_000n);
  return {
    resourceLogs: [
      {
        resource: { attributes: kv({ 'service.name': 'claude-code', 'host.note': s.text }) },
        scopeLogs: [
          {
            scope: { name: 'com.anthropic.claude_code.events' },
            logRecords: [
              {
                timeUnixNano: t,
                body: { stringValue: 'claude_code.api_request' },
                attributes: kv({
                  'event.name': 'api_request',
                  'session.id': `cc-${i}`,
                  'prompt.id': `${CANARY} ${s.text}`,
                  model: 'claude-sonnet-4-5',
                  input_tokens: '10',
                  output_tokens: '5',
                  cache_read_tokens: '0',
                  cache_creation_tokens: '0',
                  cost_usd: '0.001',
                  duration_ms: '100',
                  'custom.secret_note': s.text,
                }),
              },
              {
                timeUnixNano: t,
                body: { stringValue: 'claude_code.tool_result' },
                attributes: kv({
                  'event.name': 'tool_result',
                  'session.id': `cc-${i}`,
                  tool_name: 'Bash',
                  success: 'false',
                  duration_ms: '5',
                  tool_parameters: JSON.stringify({ command: s.text }),
                  error: `${CANARY} ${s.text}`,
                }),
              },
            ],
          },
        ],
      },
      {
        resource: { attributes: kv({ 'service.name': 'codex_cli_rs' }) },
        scopeLogs: [
          {
            scope: { name: 'codex_otel' },
            logRecords: [
              {
                timeUnixNano: t,
                attributes: kv({
                  'event.name': 'codex.tool_result',
                  'conversation.id': `cx-${i}`,
                  tool_name: 'shell',
                  call_id: `call-${i}`,
                  arguments: JSON.stringify({ command: [s.text] }),
                  output: s.text,
                  success: 'true',
                  duration_ms: '3',
                  'user.email': s.text,
                }),
              },
            ],
          },
        ],
      },
    ],
  };
}

function metricsWith(s: SecretCase, i: number) {
  return {
    resourceMetrics: [
      {
        resource: { attributes: kv({ 'service.name': 'claude-code', 'session.id': `m-${i}` }) },
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'claude_code.token.usage',
                sum: {
                  aggregationTemporality: 1,
                  dataPoints: [
                    {
                      attributes: kv({
                        type: 'input',
                        model: 'claude-sonnet-4-5',
                        note: `${CANARY} ${s.text}`,
                      }),
                      timeUnixNano: String(NOW_NS + BigInt(i)),
                      asInt: '10',
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  };
}

describe('secrets are never stored (SDK capture on and off, raw OTLP, agent logs, metrics)', () => {
  it(`no String or Map column of any table holds any of ${SECRETS.length} secret formats`, async () => {
    await viaSdk(true);
    await viaSdk(false);
    for (const [i, s] of SECRETS.entries()) {
      await post('/v1/traces', rawOtlp(s, i));
      await post('/v1/logs', agentLogs(s, i));
      await post('/v1/metrics', metricsWith(s, i));
    }
    await server.sink.flush();

    // The paths did store what they carry (so the search below is not vacuous).
    const counts = await queryRows<{ source: string; n: string }>(
      server,
      `SELECT concat(ServiceName, ':', source) AS source, toString(count()) AS n FROM ${db}.spans GROUP BY source ORDER BY source`,
    );
    const n = (key: string): number => Number(counts.find((c) => c.source === key)?.n ?? 0);
    expect(n('secrets-sdk-on:sdk')).toBe(SECRETS.length * 2 + 1);
    expect(n('secrets-sdk-off:sdk')).toBe(SECRETS.length * 2 + 1);
    expect(n('raw-producer:otel')).toBe(SECRETS.length);
    expect(n('claude-code:claude-code')).toBe(SECRETS.length * 2);
    expect(n('codex_cli_rs:codex')).toBe(SECRETS.length);

    const columns = await queryRows<{ table: string; name: string; type: string }>(
      server,
      `SELECT table, name, type FROM system.columns WHERE database = '${db}'
         AND (type LIKE '%String%') ORDER BY table, name`,
    );
    const tables = [...new Set(columns.map((c) => c.table))];
    expect(tables).toEqual(
      expect.arrayContaining(['spans', 'agent_metric_points', 'rejected_spans']),
    );
    let stored = '';
    for (const table of tables) {
      const cols = columns.filter((c) => c.table === table).map((c) => `toString(\`${c.name}\`)`);
      const rows = await queryRows<{ row: string }>(
        server,
        `SELECT concat(${cols.join(", '\\t', ")}) AS row FROM ${db}.\`${table}\``,
      );
      stored += rows.map((r) => r.row).join('\n');
    }
    expect(stored).toContain(CANARY); // the search sees captured text...
    const leaked = SECRETS.filter((s) => stored.includes(s.needle)).map(
      (s) =>
        `${s.id}: ${stored
          .split('\n')
          .find((r) => r.includes(s.needle))
          ?.slice(0, 600)}`,
    );
    expect(leaked).toEqual([]); // ...and no secret in it
  });
});
