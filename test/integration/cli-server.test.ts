import { afterEach, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { freePort, runCli, startServerProcess, waitForExit, reportRows } from '../helpers/cli.js';
import { otlpJson, sonnetSpan, SONNET_SPAN_COST_NANOS } from '../helpers/otlp-json.js';
import { tempDataDir } from '../helpers/store.js';

let running: ChildProcess | undefined;
afterEach(() => {
  running?.kill('SIGKILL');
  running = undefined;
});

const post = (url: string, body: string): Promise<Response> =>
  fetch(`${url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });

describe('harness-meter start, report and the data-folder lock (separate processes)', () => {
  it('serves reports over HTTP while it holds the folder; after kill -9 the CLI opens the folder itself', async () => {
    const dataDir = tempDataDir('cli');
    const port = await freePort();
    const env = { HM_DATA_DIR: dataDir, HM_PORT: String(port), HM_BATCH_MAX_WAIT_MS: '10' };
    const server = await startServerProcess(env);
    running = server.child;
    expect(server.output()).toContain(dataDir);

    const res = await post(
      server.url,
      otlpJson([sonnetSpan('a'.repeat(32), 'b'.repeat(16), Date.now() - 60_000)]),
    );
    expect(res.status).toBe(200);

    // While the server runs, the CLI asks it over HTTP.
    const viaApi = runCli(['report', 'cost-per-pr', '--format', 'json'], env);
    expect(viaApi.stderr).toBe('');
    const rows = reportRows<{
      repo: string;
      pr: number;
      cost_nanos: string;
      llm_calls: number;
    }>(viaApi.stdout);
    expect(rows).toEqual([
      expect.objectContaining({
        repo: 'https://github.com/acme/api',
        pr: 7,
        llm_calls: 1,
        cost_nanos: SONNET_SPAN_COST_NANOS.toString(),
      }),
    ]);

    // Opening the folder from another process fails with the lock, and a message that says what to do.
    const direct = runCli(['report', 'cost-per-pr'], {
      ...env,
      HM_API_URL: `http://127.0.0.1:${await freePort()}`,
    });
    expect(direct.status).toBe(1);
    expect(direct.stderr).toMatch(/in use by another process/);

    // kill -9: the lock goes with the process, and the committed span survives.
    server.child.kill('SIGKILL');
    await waitForExit(server.child);
    running = undefined;
    const afterKill = runCli(['report', 'cost-per-pr', '--format', 'csv'], env);
    expect(afterKill.status).toBe(0);
    expect(afterKill.stdout.split('\n')[0]).toContain('repo,pr,');
    expect(afterKill.stdout).toContain(
      `https://github.com/acme/api,7,1,1,0,1000,200,600,100,0,${SONNET_SPAN_COST_NANOS}`,
    );
  });

  it('stops cleanly on SIGINT, flushing what it accepted', async () => {
    const dataDir = tempDataDir('cli-sigint');
    const port = await freePort();
    const env = { HM_DATA_DIR: dataDir, HM_PORT: String(port), HM_BATCH_MAX_WAIT_MS: '10' };
    const server = await startServerProcess(env);
    running = server.child;
    expect(
      (
        await post(
          server.url,
          otlpJson([sonnetSpan('c'.repeat(32), 'd'.repeat(16), Date.now() - 60_000)]),
        )
      ).status,
    ).toBe(200);
    server.child.kill('SIGINT');
    expect(await waitForExit(server.child)).toBe(0);
    running = undefined;
    expect(server.output()).toContain('stopped.');
    const table = runCli(['report', 'cost', '--by', 'developer'], env);
    expect(table.status).toBe(0);
    // Columns: key, cost, llm calls, input, output, cache read, cache write, unpriced, sessions, tool calls (issue 14: cost first).
    expect(table.stdout).toMatch(/ana\s+\$0\.0045\s+1\s+1,000\s+200\s+600\s+100\s+0\s+1\s+0/);
  });

  it('rejects a malformed setting at start with the variable named', () => {
    const r = runCli(['start'], { HM_DATA_DIR: tempDataDir('cli-bad'), HM_PORT: 'eighty' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('HM_PORT="eighty" is not valid');
  });
});
