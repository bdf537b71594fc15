import { createHmac } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertCheckResult, WebhookBody } from '../../pipeline/src/alerts/index.js';
import { loadConfig, type Config } from '../../pipeline/src/config.js';
import { startEmbedded, type RunningServer } from '../../pipeline/src/embedded.js';
import { silentLogger } from '../../pipeline/src/logger.js';
import { execFile } from 'node:child_process';
import { CLI, reportRows } from '../helpers/cli.js';
import { waitFor } from '../helpers/kafka.js';
import { otlpJson, sonnetSpan, SONNET_SPAN_COST_NANOS } from '../helpers/otlp-json.js';
import { tempDataDir } from '../helpers/store.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook.js';

const DB = 'hm_alerts_server';
/** The CLI, run without blocking this process (which hosts the server it talks to). */
function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        env: { ...process.env, HM_LOG_LEVEL: 'warn', HM_KAFKA_BROKERS: '', ...env },
        timeout: 60_000,
      },
      (err, stdout, stderr) =>
        resolve({
          status: err ? Number((err as { code?: unknown }).code ?? 1) : 0,
          stdout,
          stderr,
        }),
    );
  });
}
const SECRET = 's3cret';
let server: RunningServer;
let hook: WebhookReceiver;
let dataDir: string;
let config: Config;
let rulesFile: string;

beforeAll(async () => {
  hook = await startWebhookReceiver();
  dataDir = tempDataDir('alerts-server');
  rulesFile = join(dataDir, '..', `alerts-${process.pid}.json`);
  writeFileSync(
    rulesFile,
    JSON.stringify({
      rules: [
        {
          id: 'ana-budget',
          type: 'budget',
          scope: 'developer',
          period: 'day',
          limitUsd: '0.004',
          warnAt: 0.5,
        },
        { id: 'unpriced', type: 'unpriced' },
      ],
    }),
  );
  config = loadConfig(
    {
      HM_ALERTS_FILE: rulesFile,
      HM_ALERT_WEBHOOK_URL: hook.url,
      HM_ALERT_WEBHOOK_SECRET: SECRET,
      HM_ALERTS_INTERVAL_MS: '1000',
    },
    { port: 0, dataDir, database: DB, batchMaxWaitMs: 10 },
  );
  server = await startEmbedded(config, silentLogger);
});
afterAll(async () => {
  await server.stop();
  await hook.close();
  rmSync(rulesFile, { force: true });
});

describe('alerts in the running pipeline (embedded, chDB)', () => {
  it('evaluates as spans arrive: a budget and an unpriced model alert reach the webhook once', async () => {
    const t = Date.now() - 120_000;
    const unpriced = (i: number) => ({
      traceId: 'ab'.repeat(16),
      spanId: (0x100 + i).toString(16).padStart(16, '0'),
      name: 'chat acme-coder-70b',
      startMs: t + i * 1000,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'acme',
        'gen_ai.request.model': 'acme-coder-70b',
        'gen_ai.conversation.id': 'u-1',
        'user.id': 'bo',
        'gen_ai.usage.input_tokens': 100,
        'gen_ai.usage.output_tokens': 10,
      },
    });
    const res = await fetch(`${server.receiver.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: otlpJson([
        sonnetSpan('cd'.repeat(16), '00000000000000aa', t),
        ...[0, 1, 2].map(unpriced),
      ]),
    });
    expect(res.status).toBe(200);
    // No check asked: the pipeline's own evaluator sends them.
    const got = await waitFor(
      'two webhook notices',
      async () => hook.accepted().length >= 2 && hook.accepted(),
      15_000,
    );
    const alerts = got.map((r) => (JSON.parse(r.body) as WebhookBody).alert);
    expect(alerts.map((a) => [a.rule_id, a.state, a.entity, a.figure]).sort()).toEqual([
      ['ana-budget', 'firing', 'ana', SONNET_SPAN_COST_NANOS.toString()],
      ['unpriced', 'firing', 'acme/acme-coder-70b', '3'],
    ]);
    for (const r of got)
      expect(r.headers['x-harnessmeter-signature']).toBe(
        `sha256=${createHmac('sha256', SECRET).update(r.body).digest('hex')}`,
      );

    // An on-demand check (HTTP) finds the alerts open: nothing new, nothing re-sent.
    const check = await fetch(`${server.receiver.url}/api/v1/alerts/check`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' }, // state-changing routes take JSON only
    });
    expect(check.status).toBe(200);
    const body = (await check.json()) as AlertCheckResult;
    expect(body.holding).toBe(2);
    expect(body.notices).toEqual([]);
    expect(hook.accepted()).toHaveLength(2);

    const bad = await fetch(`${server.receiver.url}/api/v1/alerts/check?at=yesterday`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);

    // The CLI talks to the running server: check and report.
    const env = {
      HM_API_URL: server.receiver.url,
      HM_DATA_DIR: dataDir,
      HM_CLICKHOUSE_DATABASE: DB,
    };
    const cli = await runCli(['alerts', 'check'], env);
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);
    expect(cli.stdout).toContain('2 condition(s) hold, 0 new notice(s)');
    const report = await runCli(['report', 'alerts', '--format', 'json'], env);
    expect(report.status).toBe(0);
    const rows = reportRows(report.stdout);
    expect(rows.map((r) => [r.rule_id, r.state, r.delivery, r.attempts]).sort()).toEqual([
      ['ana-budget', 'firing', 'delivered', 1],
      ['unpriced', 'firing', 'delivered', 1],
    ]);
    const table = await runCli(['report', 'alerts'], env);
    expect(table.stdout).toContain('$0.0045'); // 4,455,000 nano-USD
    expect(table.stdout).toContain('3 calls');
    expect(table.stdout).toContain('2 notice(s)');

    // A restarted server (same folder) resumes from the alerts table: nothing is sent again.
    await server.stop();
    server = await startEmbedded(config, silentLogger);
    const again = await fetch(`${server.receiver.url}/api/v1/alerts/check`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' }, // state-changing routes take JSON only
    });
    expect(((await again.json()) as AlertCheckResult).notices).toEqual([]);
    await new Promise((r) => setTimeout(r, 1500)); // a round of its own evaluator, too
    expect(hook.received).toHaveLength(2);
  });
});
