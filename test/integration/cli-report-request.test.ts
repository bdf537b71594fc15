import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI } from '../helpers/cli.js';
import { tempDataDir } from '../helpers/store.js';

// `report` asks HM_API_URL for the report straight away (issue 17: no /healthz round trip first).
// These servers are stand-ins in this process, so the CLI runs asynchronously (not spawnSync).

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function serve(handler: Handler): Promise<{ url: string; paths: string[] }> {
  const paths: string[] = [];
  server = createServer((req, res) => {
    paths.push(new URL(req.url ?? '/', 'http://x').pathname);
    handler(req, res);
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return { url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, paths };
}

function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, HM_LOG_LEVEL: 'warn', HM_KAFKA_BROKERS: '', ...env } },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

describe('harness-meter report against the server at HM_API_URL', () => {
  it('prints the rows of a harness-meter answer as --json, without a /healthz request first', async () => {
    const rows = [
      { repo: 'https://github.com/acme/api', pr: 7, cost_nanos: '42', cost_complete: true },
      { repo: 'https://github.com/acme/web', pr: 9, cost_nanos: null, cost_complete: false },
    ];
    let auth: string | undefined;
    const { url, paths } = await serve((req, res) => {
      auth = req.headers.authorization;
      json(res, 200, { report: 'cost-per-pr', rows });
    });
    const dataDir = join(tempDataDir('cli-direct'), 'none');
    const r = await cli(['report', 'cost-per-pr', '--json', '-s', '20261101', '-u', '20261201'], {
      HM_API_URL: url,
      HM_DATA_DIR: dataDir,
      HM_API_KEY: 'hm_test_key',
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      report: 'cost-per-pr',
      since: '2026-11-01T00:00:00.000Z',
      until: '2026-12-01T00:00:00.000Z',
      rows,
    });
    expect(paths).toEqual(['/api/v1/reports/cost-per-pr']);
    expect(auth).toBe('Bearer hm_test_key');
    expect(existsSync(dataDir)).toBe(false);
  });

  it("prints harness-meter's envelope as it came into a pipe; parses it for --order or another window", async () => {
    const since = '2026-11-01T00:00:00.000Z';
    const until = '2026-12-01T00:00:00.000Z';
    // `1.0` and `2e1` would come back as 1 and 20 from JSON.parse and JSON.stringify.
    const rowsText =
      '[{"repo":"https://github.com/acme/api","pr":7,"cost_nanos":"5","cost_usd":1.0},' +
      '{"repo":"https://github.com/acme/web","pr":9,"cost_nanos":"20","cost_usd":2e1}]';
    let windowSent = { since, until };
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        `{"report":"cost-per-pr","since":"${windowSent.since}","until":"${windowSent.until}","rows":${rowsText}}`,
      );
    });
    const env = { HM_API_URL: url, HM_DATA_DIR: join(tempDataDir('cli-verbatim'), 'none') };
    const args = ['report', 'cost-per-pr', '--json', '-s', '20261101', '-u', '20261201'];
    const asIs = await cli(args, env);
    expect(asIs.stderr).toBe('');
    expect(asIs.stdout).toBe(
      `{"report":"cost-per-pr","since":"${since}","until":"${until}","rows":${rowsText}}\n`,
    );
    const parsedRows = JSON.parse(rowsText) as { cost_nanos: string }[];
    const ordered = await cli([...args, '--order', 'asc'], env);
    expect(ordered.stdout).toBe(
      JSON.stringify({ report: 'cost-per-pr', since, until, rows: parsedRows }, null, 2) + '\n',
    );
    // An envelope for another window is not this request's answer as it stands: parsed, and
    // printed with the window the CLI asked for.
    windowSent = { since: '2026-10-01T00:00:00.000Z', until };
    const other = await cli(args, env);
    expect(JSON.parse(other.stdout)).toEqual({
      report: 'cost-per-pr',
      since,
      until,
      rows: parsedRows,
    });
  });

  it('loads only what a report from a server needs: no redaction, store client, formatter or detection', async () => {
    const { url } = await serve((_req, res) =>
      json(res, 200, {
        report: 'cost-per-pr',
        since: '2026-11-01T00:00:00.000Z',
        until: '2026-12-01T00:00:00.000Z',
        rows: [],
      }),
    );
    // A module hook that names every module the CLI loads, on stderr.
    const dir = tempDataDir('cli-modules');
    writeFileSync(
      join(dir, 'hooks.mjs'),
      `export async function load(url, ctx, next) { process.stderr.write('LOADED ' + url + '\\n'); return next(url, ctx); }\n`,
    );
    writeFileSync(
      join(dir, 'register.mjs'),
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`,
    );
    const r = await new Promise<{ failed: boolean; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        ['--import', join(dir, 'register.mjs'), CLI, 'report', 'cost-per-pr', '--json'],
        { env: { ...process.env, HM_API_URL: url, HM_LOG_LEVEL: 'warn', HM_KAFKA_BROKERS: '' } },
        (error, stdout, stderr) => resolve({ failed: error !== null, stdout, stderr }),
      ),
    );
    expect(r.failed).toBe(false);
    expect(JSON.parse(r.stdout)).toMatchObject({ report: 'cost-per-pr', rows: [] });
    const loaded = r.stderr.split('\n').filter((l) => l.startsWith('LOADED '));
    expect(loaded.some((l) => l.endsWith('/cli/report-run.js'))).toBe(true);
    const heavy = loaded.filter((l) =>
      /\/redact\.js$|secret-rules|@clickhouse|chdb|\/report\/format\.js$|\/report\/schema\.js$|\/detect\/|\/price\/|\/decode\/validate\.js$|\/report\/service\.js$/.test(
        l,
      ),
    );
    expect(heavy).toEqual([]);
  });

  it("turns the server's refusal into the API-key hint, as before", async () => {
    const { url } = await serve((_req, res) =>
      json(res, 401, { error: 'This route needs an API key.', code: 'UNAUTHORIZED' }),
    );
    const r = await cli(['report', 'cost'], { HM_API_URL: url, HM_DATA_DIR: tempDataDir('x') });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`The server at ${url} refused the request (401)`);
    expect(r.stderr).toContain('Set HM_API_KEY');
  });

  it("an answer that is not harness-meter's: /healthz decides, and without a server the local folder is read", async () => {
    const { url, paths } = await serve((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<html>not here</html>');
    });
    const dataDir = join(tempDataDir('cli-foreign'), 'none');
    const r = await cli(['report', 'cost-per-pr'], { HM_API_URL: url, HM_DATA_DIR: dataDir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no server at ${url} and no data in ${dataDir}`);
    expect(paths).toEqual(['/api/v1/reports/cost-per-pr', '/healthz']);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('a server whose /healthz is ok but whose report is not JSON: a clear error', async () => {
    const { url } = await serve((req, res) => {
      if (req.url === '/healthz') return json(res, 200, { status: 'ok' });
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('bad gateway');
    });
    const r = await cli(['report', 'waste'], { HM_API_URL: url, HM_DATA_DIR: tempDataDir('y') });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`answered HTTP 502 with something that is not harness-meter's JSON`);
  });

  it('a server that hangs up: the folder when /healthz fails too, "did not answer" when it is ok', async () => {
    const { url } = await serve((req) => req.socket.destroy());
    const dataDir = join(tempDataDir('cli-hangup'), 'none');
    const gone = await cli(['report', 'cost'], { HM_API_URL: url, HM_DATA_DIR: dataDir });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`no server at ${url} and no data in ${dataDir}`);
    server?.close();
    const half = await serve((req, res) =>
      req.url === '/healthz' ? json(res, 200, { status: 'ok' }) : req.socket.destroy(),
    );
    const r = await cli(['report', 'cost'], { HM_API_URL: half.url, HM_DATA_DIR: dataDir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`The harness-meter server at ${half.url} did not answer`);
  });
});
