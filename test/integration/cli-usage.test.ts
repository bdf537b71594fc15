import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { CLI, freePort, runCli } from '../helpers/cli.js';

// The CLI's usage surface (issue 14): no server and no store is needed, so each case is one
// short process. Exit codes: 0 ok, 1 runtime failure, 2 usage.
const version = (
  JSON.parse(readFileSync(new URL('../../pipeline/package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
const missing = join(tmpdir(), `hm-never-created-${process.pid}`);
let env: Record<string, string>;

beforeAll(async () => {
  env = { HM_DATA_DIR: missing, HM_API_URL: `http://127.0.0.1:${await freePort()}` };
});

describe('harness-meter usage', () => {
  it('--version prints the package version and exits 0', () => {
    const r = runCli(['--version'], env);
    expect(r).toMatchObject({ status: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('help lists every command and the exit codes; help <command> is that command only', () => {
    const all = runCli(['help'], env);
    expect(all.status).toBe(0);
    for (const c of ['start', 'demo', 'report', 'prices', 'reprice', 'import', 'stamp', 'alerts'])
      expect(all.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    expect(all.stdout).toContain('2  usage error');
    const cost = runCli(['help', 'report', 'cost'], env);
    expect(cost.status).toBe(0);
    expect(cost.stdout).toContain('Usage: harness-meter report cost [options]');
    expect(cost.stdout).toContain('--by <dimension>');
    expect(cost.stdout).toContain('harness-meter report cost --by team');
    expect(cost.stdout).not.toContain('--developer');
    const perPr = runCli(['report', 'cost-per-pr', '--help'], env);
    expect(perPr.stdout).toContain('--developer <developer>');
    expect(perPr.stdout).not.toEqual(cost.stdout);
  });

  it('a typo gets a suggestion and exit 2; so does a flag the command does not take', () => {
    const typo = runCli(['reprot', 'cost'], env);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toContain('(Did you mean report?)');
    const flag = runCli(['report', 'cost', '--bi', 'day'], env);
    expect(flag.status).toBe(2);
    expect(flag.stderr).toContain('(Did you mean --by?)');
    expect(flag.stderr).toContain('harness-meter help report cost');
    // Flags that do not apply are errors, not silently ignored.
    for (const args of [
      ['report', 'waste', '--developer', 'nobody'],
      ['report', 'cost', '--team', 'payments'],
      ['report', 'cost-per-pr', '--json', '--format', 'csv'],
      ['report', 'cost', '--by', 'colour'],
      ['report', 'cost', '--since', '2026-13-45'],
      ['report', 'cost-drift', '--tolerance', 'lots'],
      ['report', 'nosuch'],
      ['migrate', '--down', 'x'],
      ['prices', 'show'],
    ]) {
      const r = runCli(args, env);
      expect({ args, status: r.status }).toEqual({ args, status: 2 });
      expect(r.stderr).toMatch(/^error: /);
      expect(r.stderr).not.toMatch(/ERR_|\n\s+at /);
    }
    expect(existsSync(missing)).toBe(false);
  });

  it('a reader that closes the pipe early (`report --help | head`): a quiet exit, no EPIPE stack', async () => {
    const child = spawn(process.execPath, [CLI, 'report', '--help'], {
      env: { ...process.env, ...env, HM_LOG_LEVEL: 'warn', HM_KAFKA_BROKERS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Closed before the CLI has started: its first write to stdout fails with EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('a read command with no server and no data says so, exits 1 and creates nothing', () => {
    for (const args of [
      ['report', 'cost-per-pr'],
      ['report', 'cost', '--by', 'day', '-s', '20261101', '-u', '20261201', '--json'],
      ['reprice'],
    ]) {
      const r = runCli(args, env);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`no server at ${env.HM_API_URL} and no data in ${missing}`);
      expect(r.stderr).toContain('npm start');
    }
    expect(existsSync(missing)).toBe(false);
  });

  describe('a busy port', () => {
    let blocker: Server;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      blocker = createServer();
      await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    });
    afterAll(() => new Promise<void>((r) => blocker.close(() => r())));

    it('is found before the data folder is opened, with the HM_PORT hint', () => {
      const r = runCli(['start'], { ...env, HM_PORT: String(port) });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(r.stderr).toContain('HM_PORT=');
      expect(r.stderr).not.toContain('EADDRINUSE');
      expect(existsSync(missing)).toBe(false);
    });
  });
});
