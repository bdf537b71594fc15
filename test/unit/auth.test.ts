import { describe, expect, it } from 'vitest';
import type { ApiKeyRow } from '@harness-meter/queries';
import {
  bindIdentity,
  checkKeyRequest,
  createRequestGuard,
  generateKey,
  hostRefusal,
  isLoopbackBind,
  parseKey,
  routeAccess,
  secretMatches,
} from '../../pipeline/src/auth/index.js';
import { checkInstant, MAX_CHECK_SKEW_MS } from '../../pipeline/src/alerts/pipeline.js';
import { ConfigError } from '../../pipeline/src/errors.js';
import { silentLogger } from '../../pipeline/src/logger.js';
import type { SpanRecord } from '../../pipeline/src/model.js';

function row(
  role: ApiKeyRow['role'],
  extra: Partial<ApiKeyRow> = {},
): { row: ApiKeyRow; key: string } {
  const k = generateKey();
  return {
    key: k.token,
    row: {
      id: k.id,
      name: '',
      role,
      team: '',
      developer: '',
      secret_sha256: k.secretSha256,
      created_at: '2026-01-01 00:00:00.000',
      revoked_at: null,
      ...extra,
    },
  };
}

const req = (method: string, path: string, key?: string, host = '127.0.0.1:4318') => ({
  method,
  path,
  headers: { host, ...(key ? { authorization: `Bearer ${key}` } : {}) },
});

describe('route access table', () => {
  it.each([
    ['GET', '/healthz', 'public'],
    ['HEAD', '/healthz', 'public'],
    ['POST', '/v1/traces', 'ingest'],
    ['POST', '/v1/logs', 'ingest'],
    ['POST', '/v1/metrics', 'ingest'],
    ['POST', '/v1/github/webhook', 'signed'],
    ['GET', '/api/v1/reports/cost', 'read'],
    ['HEAD', '/api/v1/reports/cost', 'read'],
    ['GET', '/metrics', 'read'],
    ['GET', '/dashboard/index.html', 'read'],
    ['GET', '/api/v1/keys', 'admin'],
    ['POST', '/api/v1/keys/revoke', 'admin'],
    ['POST', '/api/v1/reprice', 'admin'],
    ['POST', '/api/v1/import/pr-facts', 'admin'],
    ['POST', '/api/v1/alerts/check', 'admin'],
    ['DELETE', '/v1/traces', 'admin'],
    ['PUT', '/anything', 'admin'],
    ['GET', '/v1/traces', 'read'],
  ])('%s %s needs %s', (method, path, access) => {
    expect(routeAccess(method, path)).toBe(access);
  });
});

describe('keys', () => {
  it('are hm_<12 hex>_<43 base64url>, and only the hash of the secret matches', () => {
    const k = generateKey();
    const parsed = parseKey(k.token);
    expect(parsed?.id).toBe(k.id);
    expect(secretMatches(parsed?.secret ?? '', k.secretSha256)).toBe(true);
    expect(secretMatches(`${parsed?.secret ?? ''}x`, k.secretSha256)).toBe(false);
    expect(secretMatches(parsed?.secret ?? '', 'abcd')).toBe(false);
    expect(parseKey('hm_short_x')).toBeUndefined();
    expect(generateKey().token).not.toBe(k.token);
  });

  it('checks a key request: roles, and bound identities on ingest keys only', () => {
    expect(checkKeyRequest({ role: 'ingest', team: ' payments ' })).toMatchObject({
      role: 'ingest',
      team: 'payments',
    });
    expect(() => checkKeyRequest({ role: 'root' })).toThrow(/use ingest .*, read .* or admin/);
    expect(() => checkKeyRequest({ role: 'admin', developer: 'ana' })).toThrow(
      /--role ingest only/,
    );
    expect(() => checkKeyRequest({ role: 'ingest', team: 'a\u001b[31m' })).toThrow(/control/);
  });
});

describe('Host allow-list', () => {
  it('on a loopback bind accepts the loopback names (any port) and HM_ALLOWED_HOSTS only', () => {
    for (const h of [
      '127.0.0.1',
      '127.0.0.1:4318',
      'localhost:1',
      'LOCALHOST',
      '[::1]:4318',
      'meter.internal:8080',
    ])
      expect(hostRefusal(h, '127.0.0.1', ['meter.internal'])).toBeUndefined();
    for (const h of [
      'evil.example',
      'evil.example:4318',
      '127.0.0.1.nip.io',
      '',
      'localhost.evil.example',
    ])
      expect(hostRefusal(h, '127.0.0.1', ['meter.internal'])).toMatch(/is not served here/);
    expect(hostRefusal(undefined, 'localhost', [])).toMatch(/is not served here/);
  });

  it('off loopback applies only once HM_ALLOWED_HOSTS is set', () => {
    expect(isLoopbackBind('0.0.0.0')).toBe(false);
    expect(isLoopbackBind('127.0.0.2')).toBe(true);
    expect(hostRefusal('anything.example', '0.0.0.0', [])).toBeUndefined();
    expect(hostRefusal('anything.example', '0.0.0.0', ['meter.internal'])).toMatch(/not served/);
  });
});

describe('request guard', () => {
  it('refuses to start on a non-loopback bind with no key, with how to create one', async () => {
    const start = createRequestGuard({
      mode: 'on',
      bind: '0.0.0.0',
      allowedHosts: [],
      keys: { load: () => Promise.resolve([]) },
      logger: silentLogger,
    });
    await expect(start).rejects.toThrow(ConfigError);
    await expect(start).rejects.toThrow(/harness-meter keys create --role admin.*HM_AUTH=off/);
  });

  it('starts open with HM_AUTH=off (and says so), or with a key', async () => {
    const lines: string[] = [];
    const loud = {
      ...silentLogger,
      warn: (m: string) => {
        lines.push(m);
      },
    };
    const off = await createRequestGuard({
      mode: 'off',
      bind: '0.0.0.0',
      allowedHosts: [],
      keys: { load: () => Promise.resolve([]) },
      logger: loud,
    });
    expect(lines.join('\n')).toMatch(/HM_AUTH=off: NO AUTHENTICATION/);
    expect(await off.check(req('POST', '/api/v1/reprice', undefined, 'x.example'))).toMatchObject({
      ok: true,
    });
    const admin = row('admin');
    const on = await createRequestGuard({
      mode: 'on',
      bind: '0.0.0.0',
      allowedHosts: [],
      keys: { load: () => Promise.resolve([admin.row]) },
      logger: silentLogger,
    });
    expect(await on.check(req('POST', '/api/v1/reprice'))).toMatchObject({
      ok: false,
      status: 401,
    });
    expect(await on.check(req('POST', '/api/v1/reprice', admin.key))).toMatchObject({ ok: true });
  });

  it('sees keys made elsewhere within its refresh, and a revoked key at once after invalidate', async () => {
    let clock = 0;
    const ingest = row('ingest', { team: 'payments' });
    const stored: ApiKeyRow[] = [];
    const guard = await createRequestGuard({
      mode: 'on',
      bind: '127.0.0.1',
      allowedHosts: [],
      keys: { load: () => Promise.resolve([...stored]) },
      logger: silentLogger,
      refreshMs: 1000,
      missRefreshMs: 100,
      now: () => clock,
    });
    expect(await guard.check(req('POST', '/v1/traces'))).toMatchObject({ ok: true });
    stored.push(ingest.row); // another process creates a key
    clock = 999;
    expect(await guard.check(req('POST', '/v1/traces'))).toMatchObject({ ok: true }); // cached: still open
    clock = 1000;
    expect(await guard.check(req('POST', '/v1/traces'))).toMatchObject({ ok: false, status: 401 });
    expect(await guard.check(req('POST', '/v1/traces', ingest.key))).toEqual({
      ok: true,
      context: { keyId: ingest.row.id, team: 'payments', developer: '' },
    });
    expect(await guard.check(req('GET', '/api/v1/reports/cost', ingest.key))).toMatchObject({
      ok: false,
      status: 403,
    });
    stored[0] = { ...ingest.row, revoked_at: '2026-01-02 00:00:00.000' };
    guard.invalidate();
    expect(await guard.check(req('POST', '/v1/traces', ingest.key))).toMatchObject({
      ok: false,
      status: 401,
      reason: expect.stringMatching(/revoked/) as unknown,
    });
  });

  it('keeps the last known keys when the store cannot be read', async () => {
    let clock = 0;
    const read = row('read');
    let fail = false;
    const guard = await createRequestGuard({
      mode: 'on',
      bind: '127.0.0.1',
      allowedHosts: [],
      keys: {
        load: () => (fail ? Promise.reject(new Error('store down')) : Promise.resolve([read.row])),
      },
      logger: silentLogger,
      now: () => clock,
    });
    fail = true;
    clock = 60_000;
    expect(await guard.check(req('GET', '/api/v1/reports/cost'))).toMatchObject({ status: 401 });
    expect(await guard.check(req('GET', '/api/v1/reports/cost', read.key))).toMatchObject({
      ok: true,
    });
  });
});

describe('bound identities', () => {
  const span = (team: string, developer: string): SpanRecord =>
    ({ team, developer, traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) }) as SpanRecord;

  it("stamps the key's team and developer, counts spans that claimed others, records the key id", () => {
    const who = { keyId: 'abcdefabcdef', team: 'payments', developer: 'ana' };
    const out = bindIdentity(
      [span('payments', 'ana'), span('', ''), span('other', 'ana'), span('payments', 'mallory')],
      who,
    );
    expect(out.overridden).toBe(2);
    for (const r of out.records)
      expect(r).toMatchObject({ team: 'payments', developer: 'ana', keyId: 'abcdefabcdef' });
  });

  it('an unbound key keeps what the spans say', () => {
    const out = bindIdentity([span('t', 'd')], { keyId: 'k', team: '', developer: '' });
    expect(out).toMatchObject({
      overridden: 0,
      records: [{ team: 't', developer: 'd', keyId: 'k' }],
    });
  });
});

describe('alerts check instant', () => {
  it('accepts now and the past, refuses beyond the clock skew', () => {
    const now = new Date('2026-06-01T12:00:00Z');
    expect(checkInstant(null, now)).toBe(now);
    expect(checkInstant('1h', now).toISOString()).toBe('2026-06-01T11:00:00.000Z');
    const edge = new Date(now.getTime() + MAX_CHECK_SKEW_MS).toISOString();
    expect(checkInstant(edge, now).toISOString()).toBe(edge);
    expect(() => checkInstant('2026-06-02T12:00:00Z', now)).toThrow(/is in the future/);
    // Year 2999 is refused earlier, as outside the window a stored time can have.
    expect(() => checkInstant('2999-01-01', now)).toThrow(/is outside/);
  });
});
