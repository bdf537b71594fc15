import type { ApiKeyRow } from '@harness-meter/queries';
import { ConfigError } from '../errors.js';
import { ANONYMOUS, type GuardDecision, type RequestGuard } from '../ingest/server.js';
import type { Logger } from '../logger.js';
import { bearerToken, parseKey, secretMatches } from './keys.js';
import { hostRefusal, isLoopbackBind, roleAllows, routeAccess } from './policy.js';

/** Where the guard reads keys from (the api_keys table; a list in unit tests). */
export interface KeySource {
  load(): Promise<readonly ApiKeyRow[]>;
}

export const AUTH_DEFAULTS = {
  /** Keys are re-read at most this long after a request saw them (keys made by other processes). */
  refreshMs: 2_000,
  /** An unknown key id triggers a re-read, at most this often (a flood of made-up keys costs little). */
  missRefreshMs: 500,
} as const;

export interface GuardOptions {
  /** HM_AUTH */
  mode: 'on' | 'off';
  /** HM_HOST: a loopback bind with no keys stays open. */
  bind: string;
  /** HM_ALLOWED_HOSTS */
  allowedHosts: readonly string[];
  /** Absent when this process cannot read the store (a Kafka ingest stage on chDB): no keys. */
  keys?: KeySource;
  logger: Logger;
  refreshMs?: number;
  missRefreshMs?: number;
  now?: () => number;
}

export interface AuthGuard extends RequestGuard {
  /** Re-reads the keys at the next request (after a key was created or revoked here). */
  invalidate(): void;
  /** Keys known (revoked included): auth is on as soon as one was ever created. */
  keyCount(): number;
}

const deny = (status: 401 | 403, reason: string): GuardDecision => ({
  ok: false,
  status,
  reason,
  code: status === 401 ? 'UNAUTHENTICATED' : 'PERMISSION_DENIED',
});

/**
 * The request guard of a server: the Host allow-list, then the key policy. Keys are cached and
 * re-read every `refreshMs`, on an unknown key id, and after `invalidate()`.
 * Refuses to start (ConfigError) on a non-loopback bind with no key, unless HM_AUTH=off.
 */
export async function createRequestGuard(options: GuardOptions): Promise<AuthGuard> {
  const log = options.logger;
  const now = options.now ?? Date.now;
  const refreshMs = options.refreshMs ?? AUTH_DEFAULTS.refreshMs;
  const missRefreshMs = options.missRefreshMs ?? AUTH_DEFAULTS.missRefreshMs;
  const loopback = isLoopbackBind(options.bind);
  let keys: readonly ApiKeyRow[] = [];
  let loadedAt = 0;
  let loading: Promise<void> | undefined;
  const reload = (): Promise<void> =>
    (loading ??= (async () => {
      try {
        keys = (await options.keys?.load()) ?? [];
        loadedAt = now();
      } catch (err) {
        // Keep the keys we had: a store hiccup must not open the server, nor lock everyone out.
        log.warn('API keys could not be re-read; using the last known keys', {
          error: err instanceof Error ? err.message : String(err),
        });
        loadedAt = now();
      } finally {
        loading = undefined;
      }
    })());
  await reload();

  if (options.mode === 'off') {
    log.warn(
      'HM_AUTH=off: NO AUTHENTICATION. Anyone who can reach this server can write spans as anyone, read all spend, re-price and import. Unset HM_AUTH to require API keys.',
      { host: options.bind },
    );
  } else if (!loopback && keys.length === 0) {
    throw new ConfigError(
      `HM_HOST=${options.bind} is not a loopback address and no API key exists${options.keys ? '' : ' (this process cannot read the store: set HM_CLICKHOUSE_URL)'}, so anyone on the network could write and read everything. ` +
        'Create a key first, with the server stopped: harness-meter keys create --role admin (then --role ingest / read for senders and readers), ' +
        'or bind to 127.0.0.1, or set HM_AUTH=off to run without authentication (not recommended).',
    );
  } else if (keys.length === 0) {
    log.info('no API keys: open to loopback clients until the first key is created', {
      host: options.bind,
    });
  }

  async function check(req: Parameters<RequestGuard['check']>[0]): Promise<GuardDecision> {
    const hostHeader = req.headers.host;
    const refusal = hostRefusal(hostHeader, options.bind, options.allowedHosts);
    if (refusal !== undefined)
      return { ok: false, status: 421, reason: refusal, code: 'MISDIRECTED_REQUEST' };
    if (options.mode === 'off') return { ok: true, context: ANONYMOUS };
    const access = routeAccess(req.method, req.path);
    if (access === 'public' || access === 'signed') return { ok: true, context: ANONYMOUS };
    if (now() - loadedAt >= refreshMs) await reload();
    if (keys.length === 0) {
      if (loopback) return { ok: true, context: ANONYMOUS };
      return deny(
        401,
        'No API key exists on this server: create one with harness-meter keys create.',
      );
    }
    const what = `${req.method} ${req.path} needs an API key with role ${access}${access === 'admin' ? '' : ' or admin'}`;
    const token = bearerToken(req.headers.authorization);
    if (token === undefined) return deny(401, `${what}: send Authorization: Bearer <key>.`);
    const parsed = parseKey(token);
    if (!parsed) return deny(401, `${what}: the key sent is not a harness-meter key (hm_…).`);
    let key = keys.find((k) => k.id === parsed.id);
    if (!key && now() - loadedAt >= missRefreshMs) {
      await reload();
      key = keys.find((k) => k.id === parsed.id);
    }
    if (!key || !secretMatches(parsed.secret, key.secret_sha256))
      return deny(401, `${what}: the key sent is not valid.`);
    if (key.revoked_at !== null)
      return deny(401, `${what}: key ${key.id} was revoked at ${key.revoked_at}.`);
    if (!roleAllows(key.role, access))
      return deny(403, `${what}; key ${key.id} has role ${key.role}.`);
    return {
      ok: true,
      context: { keyId: key.id, team: key.team, developer: key.developer },
    };
  }

  return {
    check,
    invalidate: () => {
      loadedAt = 0;
    },
    keyCount: () => keys.length,
  };
}
