import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/src/config.js';
import { startEmbedded, type RunningServer } from '../../pipeline/src/embedded.js';
import { silentLogger } from '../../pipeline/src/logger.js';
import { otlpJson } from '../helpers/otlp-json.js';
import { queryRows } from '../helpers/server.js';
import { tempDataDir } from '../helpers/store.js';

const DB = 'hm_auth';
let server: RunningServer;
let base: string;
const keys: Record<'admin' | 'read' | 'ingest' | 'bound', string> = {
  admin: '',
  read: '',
  ingest: '',
  bound: '',
};
let boundId = '';

const JSON_CT = { 'content-type': 'application/json' };
const bearer = (key: string): Record<string, string> =>
  key ? { authorization: `Bearer ${key}` } : {};

function call(
  method: string,
  path: string,
  key: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${base}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : JSON_CT), ...bearer(key), ...headers },
    ...(body === undefined ? {} : { body }),
  });
}

let spanSeq = 0;
function spans(attributes: Record<string, string> = {}): string {
  spanSeq++;
  return otlpJson([
    {
      traceId: spanSeq.toString(16).padStart(32, 'a'),
      spanId: spanSeq.toString(16).padStart(16, 'b'),
      name: 'chat claude-sonnet-4-5',
      startMs: Date.now() - 60_000,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'anthropic',
        'gen_ai.request.model': 'claude-sonnet-4-5',
        'gen_ai.usage.input_tokens': 100,
        'gen_ai.usage.output_tokens': 10,
        ...attributes,
      },
    },
  ]);
}

/** A raw HTTP request with a Host header of our choosing (fetch does not let us set Host). */
function withHost(path: string, host: string): Promise<{ status: number; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path, method: 'GET', headers: { host }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  server = await startEmbedded(
    loadConfig(
      { HM_ALERTS: 'on', HM_ALLOWED_HOSTS: 'meter.internal' },
      { port: 0, dataDir: tempDataDir('auth'), database: DB, batchMaxWaitMs: 10 },
    ),
    silentLogger,
  );
  base = server.receiver.url;
});
afterAll(async () => {
  await server.stop();
});

async function createKey(by: string, body: Record<string, string>): Promise<string> {
  const res = await call('POST', '/api/v1/keys', by, JSON.stringify(body));
  expect(res.status).toBe(201);
  const created = (await res.json()) as { key: string; id: string; role: string };
  expect(created.role).toBe(body.role);
  expect(created.key).toMatch(/^hm_[0-9a-f]{12}_/);
  return created.key;
}

describe('API keys and roles', () => {
  it('on loopback with no key, everything is open (the zero-config default)', async () => {
    expect((await call('POST', '/v1/traces', '', spans())).status).toBe(200);
    expect((await call('GET', '/api/v1/reports/cost?since=1d', '')).status).toBe(200);
    expect((await call('GET', '/api/v1/keys', '')).status).toBe(200);
  });

  it('the first key turns authentication on; keys are hashed, never listed', async () => {
    keys.admin = await createKey('', { role: 'admin', name: 'ops' });
    // From now on a key is needed, at once (the guard re-reads keys after a create).
    const refused = await call('GET', '/api/v1/reports/cost?since=1d', '');
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: string }).error).toMatch(
      /needs an API key with role read or admin: send Authorization: Bearer/,
    );
    keys.read = await createKey(keys.admin, { role: 'read' });
    keys.ingest = await createKey(keys.admin, { role: 'ingest' });
    keys.bound = await createKey(keys.admin, {
      role: 'ingest',
      team: 'payments',
      developer: 'ana',
      name: 'ana laptop',
    });
    boundId = keys.bound.slice(3, 15);
    const stored = await queryRows<{ secret_sha256: string; id: string }>(
      server,
      `SELECT id, secret_sha256 FROM ${DB}.api_keys FINAL`,
    );
    expect(stored).toHaveLength(4);
    for (const k of Object.values(keys)) {
      const secret = k.slice(16);
      for (const row of stored) expect(JSON.stringify(row)).not.toContain(secret);
    }
    const list = await call('GET', '/api/v1/keys', keys.admin);
    const text = await list.text();
    for (const k of Object.values(keys)) expect(text).not.toContain(k.slice(16));
    expect(text).not.toContain('secret_sha256');
  });

  it('refuses a bound identity on keys that do not ingest', async () => {
    const res = await call(
      'POST',
      '/api/v1/keys',
      keys.admin,
      JSON.stringify({ role: 'read', team: 'x' }),
    );
    expect(res.status).toBe(400);
  });

  // route × no key / wrong role / right role; admin may do everything.
  const routes: {
    what: string;
    method: string;
    path: string;
    body?: () => string;
    wrong: keyof typeof keys;
    right: keyof typeof keys;
    ok: number;
  }[] = [
    {
      what: 'OTLP traces',
      method: 'POST',
      path: '/v1/traces',
      body: () => spans(),
      wrong: 'read',
      right: 'ingest',
      ok: 200,
    },
    {
      what: 'OTLP logs',
      method: 'POST',
      path: '/v1/logs',
      body: () => JSON.stringify({ resourceLogs: [] }),
      wrong: 'read',
      right: 'ingest',
      ok: 200,
    },
    {
      what: 'OTLP metrics',
      method: 'POST',
      path: '/v1/metrics',
      body: () => JSON.stringify({ resourceMetrics: [] }),
      wrong: 'read',
      right: 'ingest',
      ok: 200,
    },
    {
      what: 'a report',
      method: 'GET',
      path: '/api/v1/reports/cost?since=1d',
      wrong: 'ingest',
      right: 'read',
      ok: 200,
    },
    {
      what: 'HEAD of a report',
      method: 'HEAD',
      path: '/api/v1/reports/unpriced',
      wrong: 'ingest',
      right: 'read',
      ok: 200,
    },
    {
      what: 'reprice',
      method: 'POST',
      path: '/api/v1/reprice',
      body: () => '{}',
      wrong: 'read',
      right: 'admin',
      ok: 200,
    },
    {
      what: 'import pr-facts',
      method: 'POST',
      path: '/api/v1/import/pr-facts',
      body: () => JSON.stringify({ events: [], commits: [] }),
      wrong: 'ingest',
      right: 'admin',
      ok: 200,
    },
    {
      what: 'alerts check',
      method: 'POST',
      path: '/api/v1/alerts/check',
      body: () => '{}',
      wrong: 'read',
      right: 'admin',
      ok: 200,
    },
    {
      what: 'keys list',
      method: 'GET',
      path: '/api/v1/keys',
      wrong: 'read',
      right: 'admin',
      ok: 200,
    },
    {
      what: 'keys create',
      method: 'POST',
      path: '/api/v1/keys',
      body: () => JSON.stringify({ role: 'read', name: 'matrix' }),
      wrong: 'ingest',
      right: 'admin',
      ok: 201,
    },
    {
      what: 'keys revoke',
      method: 'POST',
      path: '/api/v1/keys/revoke',
      body: () => JSON.stringify({ id: '000000000000' }),
      wrong: 'read',
      right: 'admin',
      ok: 400,
    },
  ];
  for (const r of routes) {
    it(`${r.what}: 401 without a key, 403 with role ${r.wrong}, ${r.ok} with role ${r.right} and with admin`, async () => {
      const none = await call(r.method, r.path, '', r.body?.());
      expect(none.status).toBe(401);
      if (r.method !== 'HEAD')
        expect((await none.json()) as object).toMatchObject({ code: 'UNAUTHENTICATED' });
      const wrong = await call(r.method, r.path, keys[r.wrong], r.body?.());
      expect(wrong.status).toBe(403);
      if (r.method !== 'HEAD')
        expect(((await wrong.json()) as { error: string }).error).toContain(`has role ${r.wrong}`);
      expect((await call(r.method, r.path, keys[r.right], r.body?.())).status).toBe(r.ok);
      expect((await call(r.method, r.path, keys.admin, r.body?.())).status).toBe(r.ok);
    });
  }

  it('/healthz (GET and HEAD) needs no key; the GitHub webhook keeps its own signature check', async () => {
    expect((await call('GET', '/healthz', '')).status).toBe(200);
    const head = await call('HEAD', '/healthz', '');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const hook = await call('POST', '/v1/github/webhook', '', '{}', { 'x-github-event': 'ping' });
    expect(hook.status).toBe(503); // no HM_GITHUB_WEBHOOK_SECRET here: refused by the handler, not by a key check
    expect(((await hook.json()) as { error: string }).error).toMatch(/HM_GITHUB_WEBHOOK_SECRET/);
  });

  it("the dashboard's shell opens without a key; the API calls it makes need a read key", async () => {
    const page = await call('GET', '/', '');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    const asset = /\/assets\/[^"']+\.js/.exec(html)?.[0];
    expect(asset).toBeDefined();
    expect((await call('GET', asset ?? '', '')).status).toBe(200);
    expect((await call('GET', '/api/v1/dashboard/summary', '')).status).toBe(401);
    expect((await call('GET', '/api/v1/dashboard/summary', keys.ingest)).status).toBe(403);
    expect((await call('GET', '/api/v1/dashboard/summary', keys.read)).status).toBe(200);
  });

  it('a made-up, malformed or revoked key is refused with 401', async () => {
    const forged = `${keys.read.slice(0, 16)}${'A'.repeat(43)}`;
    expect((await call('GET', '/api/v1/reports/cost', forged)).status).toBe(401);
    expect((await call('GET', '/api/v1/reports/cost', 'not-a-key')).status).toBe(401);
    const temp = await createKey(keys.admin, { role: 'read', name: 'temp' });
    expect((await call('GET', '/api/v1/reports/cost', temp)).status).toBe(200);
    const revoke = await call(
      'POST',
      '/api/v1/keys/revoke',
      keys.admin,
      JSON.stringify({ id: temp.slice(3, 15) }),
    );
    expect(revoke.status).toBe(200);
    const after = await call('GET', '/api/v1/reports/cost', temp);
    expect(after.status).toBe(401);
    expect(((await after.json()) as { error: string }).error).toMatch(/was revoked/);
  });

  it('a bound ingest key cannot write as another team or developer: stored as the key, counted', async () => {
    const res = await call(
      'POST',
      '/v1/traces',
      keys.bound,
      spans({ 'harness_meter.team': 'other', 'user.id': 'mallory' }),
    );
    expect(res.status).toBe(200);
    const answer = (await res.json()) as {
      partialSuccess?: { rejectedSpans?: string; errorMessage: string };
    };
    // Stored, not dropped: rejectedSpans stays 0; the override is a warning in errorMessage.
    expect(answer.partialSuccess?.rejectedSpans ?? '0').toBe('0');
    expect(answer.partialSuccess?.errorMessage).toMatch(
      new RegExp(`1 span\\(s\\) claimed another team or developer than API key ${boundId}`),
    );
    // A span that claims nothing gets the key's identity too, silently.
    const quiet = await call('POST', '/v1/traces', keys.bound, spans());
    expect(await quiet.json()).toEqual({});
    await server.sink.flush();
    const rows = await queryRows<{ team: string; developer: string; n: string }>(
      server,
      `SELECT team, developer, count() AS n FROM ${DB}.spans FINAL WHERE key_id = '${boundId}' GROUP BY team, developer`,
    );
    expect(rows).toEqual([{ team: 'payments', developer: 'ana', n: '2' }]);
    // The unbound ingest key keeps what the spans say, and its id is recorded.
    const ingestId = keys.ingest.slice(3, 15);
    const listed = (await (await call('GET', '/api/v1/keys', keys.admin)).json()) as {
      keys: { id: string; spans: number; last_span_at: string | null }[];
    };
    expect(listed.keys.find((k) => k.id === boundId)).toMatchObject({ spans: 2 });
    expect(listed.keys.find((k) => k.id === ingestId)?.spans).toBeGreaterThan(0);
  });
});

describe('browser safety', () => {
  it('answers a Host outside the allow-list with 421 and a reason; loopback names and HM_ALLOWED_HOSTS pass', async () => {
    const evil = await withHost('/healthz', 'evil.example:4318');
    expect(evil.status).toBe(421);
    expect((JSON.parse(evil.body) as { error: string }).error).toMatch(
      /Host "evil.example:4318" is not served here/,
    );
    for (const host of ['localhost:9999', '127.0.0.1', '[::1]:4318', 'meter.internal:80'])
      expect((await withHost('/healthz', host)).status).toBe(200);
  });

  it('state-changing routes take JSON only: text/plain and forms are 415, nothing stored', async () => {
    const facts = JSON.stringify({
      events: [],
      commits: [
        {
          repo: 'acme/api',
          sha: 'f'.repeat(40),
          source: 'import-git',
          pr: 0,
          branch: 'main',
          session_id: '',
          author: 'x',
          committed_at: '2026-01-01 00:00:00',
          delivery_id: '',
        },
      ],
    });
    for (const ct of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const res = await call('POST', '/api/v1/import/pr-facts', keys.admin, facts, {
        'content-type': ct,
      });
      expect(res.status).toBe(415);
      expect(((await res.json()) as { error: string }).error).toMatch(/send application\/json/);
      const traces = await call('POST', '/v1/traces', keys.admin, spans(), { 'content-type': ct });
      expect(traces.status).toBe(415);
    }
    const stored = await queryRows<{ n: string }>(
      server,
      `SELECT count() AS n FROM ${DB}.pr_commits`,
    );
    expect(stored).toEqual([{ n: '0' }]);
  });

  it('sends no CORS headers, even to a preflight', async () => {
    const origin = { origin: 'https://evil.example' };
    const get = await call('GET', '/api/v1/reports/cost', keys.read, undefined, origin);
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await call('OPTIONS', '/api/v1/import/pr-facts', keys.admin, undefined, {
      ...origin,
      'access-control-request-method': 'POST',
    });
    expect(preflight.status).toBeGreaterThanOrEqual(400);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('route lookup never reaches Object.prototype', async () => {
    for (const name of ['constructor', 'valueOf', '__proto__', 'toString', 'hasOwnProperty'])
      expect((await call('GET', `/api/v1/${name}`, keys.read)).status).toBe(404);
  });

  it('alerts/check refuses an instant beyond the clock skew (it would silence later alerts)', async () => {
    // A day ahead: a valid date, but beyond the skew (year 2999 is refused earlier, out of range).
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
    const future = await call(
      'POST',
      `/api/v1/alerts/check?at=${encodeURIComponent(tomorrow)}`,
      keys.admin,
      '{}',
    );
    expect(future.status).toBe(400);
    expect(((await future.json()) as { error: string }).error).toMatch(/is in the future/);
    const far = await call('POST', '/api/v1/alerts/check?at=2999-01-01', keys.admin, '{}');
    expect(far.status).toBe(400);
    const past = await call('POST', '/api/v1/alerts/check?at=1h', keys.admin, '{}');
    expect(past.status).toBe(200);
  });
});
