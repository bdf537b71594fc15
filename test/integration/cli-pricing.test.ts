import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import {
  freePort,
  postOnce,
  runCli,
  startServerProcess,
  waitForExit,
  reportRows,
} from '../helpers/cli.js';
import { otlpJson } from '../helpers/otlp-json.js';
import { tempDataDir } from '../helpers/store.js';

let running: ChildProcess | undefined;
afterEach(() => {
  running?.kill('SIGKILL');
  running = undefined;
});

describe('harness-meter prices show, report unpriced / cost-drift, reprice (separate processes)', () => {
  it('an unpriced model seen over the API, priced by HM_PRICES_FILE, filled by the reprice command', async () => {
    const dataDir = tempDataDir('cli-pricing');
    const env = {
      HM_DATA_DIR: dataDir,
      HM_PORT: String(await freePort()),
      HM_BATCH_MAX_WAIT_MS: '10',
    };
    const server = await startServerProcess(env);
    running = server.child;
    const apiEnv = { ...env, HM_API_URL: server.url };
    const res = await fetch(`${server.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: otlpJson([
        {
          traceId: 'c'.repeat(32),
          spanId: 'd'.repeat(16),
          name: 'chat acme-coder-70b',
          startMs: Date.now() - 60_000,
          attributes: {
            'gen_ai.operation.name': 'chat',
            'gen_ai.provider.name': 'acme',
            'gen_ai.request.model': 'acme-coder-70b',
            'gen_ai.usage.input_tokens': 1000,
            'gen_ai.usage.output_tokens': 500,
          },
        },
      ]),
    });
    expect(res.status).toBe(200);
    const unpriced = runCli(['report', 'unpriced', '--format', 'json'], apiEnv);
    expect(unpriced.stderr).toBe('');
    expect(reportRows(unpriced.stdout)).toEqual([
      expect.objectContaining({
        model: 'acme-coder-70b',
        provider: 'acme',
        calls: 1,
        input_tokens: 1000,
      }),
    ]);
    const drift = runCli(['report', 'cost-drift', '--tolerance', '2.5'], apiEnv);
    expect(drift.status).toBe(0);
    expect(drift.stdout).toContain('(no data in this window)');
    const badTolerance = runCli(['report', 'cost-drift', '--tolerance', 'lots'], apiEnv);
    expect(badTolerance.status).toBe(2); // a usage error (issue 14: usage errors exit 2)
    expect(badTolerance.stderr).toContain('--tolerance "lots" is not valid');
    server.child.kill('SIGINT');
    expect(await waitForExit(server.child)).toBe(0);
    running = undefined;

    const file = join(dataDir, 'prices.json');
    writeFileSync(
      file,
      JSON.stringify({
        models: [
          { provider: 'acme', id: 'acme-coder-70b', prices: { input: '0.2', output: '0.6' } },
        ],
      }),
    );
    const withFile = { ...env, HM_PRICES_FILE: file, HM_API_URL: 'http://127.0.0.1:9' };
    const show = runCli(['prices', 'show', 'acme-coder-70b', '--at', '2026-11-01'], withFile);
    expect(show.status).toBe(0);
    expect(show.stdout).toContain('price row:      override:acme:acme-coder-70b@-');
    expect(show.stdout).toContain(`source:         overrides file ${file}`);
    expect(show.stdout).toContain('input (fresh)   0.2\n');

    // 1,000 × 200,000 pico + 500 × 600,000 pico = 200,000 + 300,000 = 500,000 nano-USD
    const first = runCli(['reprice', '--since', '7d'], withFile);
    expect(first.stderr).toBe('');
    expect(first.stdout).toContain('changed:      1 (1 newly priced, 0 now unpriced)');
    expect(first.stdout).toContain('total delta:  +$0.000500000 (500000 nano-USD)');
    const second = runCli(['reprice'], withFile);
    expect(second.stdout).toContain('changed:      0 (0 newly priced, 0 now unpriced)');
    const byModel = runCli(['report', 'cost', '--by', 'model', '--format', 'json'], withFile);
    expect(reportRows(byModel.stdout)).toEqual([
      expect.objectContaining({
        key: 'acme-coder-70b',
        llm_calls: 1,
        cost_nanos: '500000',
        unpriced_calls: 0,
      }),
    ]);

    writeFileSync(file, JSON.stringify({ discounts: [{ provider: 'anthropic', percent: 'ten' }] }));
    const bad = runCli(['prices', 'show', 'claude-sonnet-4-5'], withFile);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('[PRICE_OVERRIDES_INVALID]');
    expect(bad.stderr).toContain('discounts[0].percent');
  }, 120_000);

  it('reprice with a server running goes through its API: prices reloaded, new calls priced alike, a bad file refused', async () => {
    const dataDir = tempDataDir('cli-pricing-server');
    const file = join(dataDir, 'prices.json');
    writeFileSync(file, JSON.stringify({ models: [] }));
    const env = {
      HM_DATA_DIR: dataDir,
      HM_PORT: String(await freePort()),
      HM_BATCH_MAX_WAIT_MS: '10',
      HM_PRICES_FILE: file,
    };
    const server = await startServerProcess(env);
    running = server.child;
    const apiEnv = { ...env, HM_API_URL: server.url };
    const send = (spanId: string, startMs: number): Promise<{ status: number }> =>
      postOnce(
        `${server.url}/v1/traces`,
        otlpJson([
          {
            traceId: 'e'.repeat(32),
            spanId,
            name: 'chat acme-coder-70b',
            startMs,
            attributes: {
              'gen_ai.operation.name': 'chat',
              'gen_ai.provider.name': 'acme',
              'gen_ai.request.model': 'acme-coder-70b',
              'gen_ai.usage.input_tokens': 1000,
              'gen_ai.usage.output_tokens': 500,
            },
          },
        ]),
      );
    expect((await send('1'.repeat(16), Date.now() - 120_000)).status).toBe(200);
    writeFileSync(
      file,
      JSON.stringify({
        models: [
          { provider: 'acme', id: 'acme-coder-70b', prices: { input: '0.2', output: '0.6' } },
        ],
      }),
    );
    // The server holds the chDB folder: the CLI asks it (a second process could not open the folder).
    const first = runCli(['reprice'], apiEnv);
    expect(first.stderr).toBe('');
    expect(first.stdout).toContain(`(by the server at ${server.url}`);
    expect(first.stdout).toContain('changed:      1 (1 newly priced, 0 now unpriced)');
    expect(first.stdout).toContain('total delta:  +$0.000500000 (500000 nano-USD)');
    // A call arriving after the reprice is priced with the reloaded data at ingest.
    expect((await send('2'.repeat(16), Date.now() - 60_000)).status).toBe(200);
    const again = runCli(['reprice'], apiEnv);
    expect(again.stdout).toContain('changed:      0 (0 newly priced, 0 now unpriced)');
    const byModel = runCli(['report', 'cost', '--by', 'model', '--format', 'json'], apiEnv);
    expect(reportRows(byModel.stdout)).toEqual([
      expect.objectContaining({
        key: 'acme-coder-70b',
        llm_calls: 2,
        cost_nanos: '1000000',
        unpriced_calls: 0,
      }),
    ]);
    // A broken overrides file: refused with the reason, nothing changed, the server keeps serving.
    writeFileSync(file, '{"models": [');
    const bad = runCli(['reprice'], apiEnv);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('could not be reloaded, nothing was re-priced');
    // (A new process each time: the test's own keep-alive sockets may have idled out meanwhile.)
    const still = runCli(['report', 'cost', '--by', 'model'], apiEnv);
    expect(still.stdout).toContain(`cost by model (from ${server.url})`);
    expect(still.stdout).toContain('acme-coder-70b');
    expect(still.stdout).toContain('$0.0010');
  }, 120_000);
});
