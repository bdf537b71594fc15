import type { ApiKeyRole } from '@harness-meter/queries';

/** What a route needs: nothing, a key of a role, or its own signature check (GitHub webhook). */
export type RouteAccess = 'public' | 'signed' | ApiKeyRole;

const OTLP_PATHS = new Set(['/v1/traces', '/v1/logs', '/v1/metrics']);
export const WEBHOOK_PATH = '/v1/github/webhook';

/**
 * The access table, in one place: /healthz and the dashboard's static shell are public; OTLP exports need `ingest`; the GitHub
 * webhook is checked by its HMAC signature; key management needs `admin`; every other GET (reports,
 * /metrics, the dashboard's pages) needs `read`; every other request (reprice, import, alerts
 * check, anything that changes state) needs `admin`.
 */
export function routeAccess(method: string, path: string): RouteAccess {
  const m = method.toUpperCase();
  const read = m === 'GET' || m === 'HEAD';
  if (read && path === '/healthz') return 'public';
  // The dashboard's shell (index.html and its hashed assets) holds no data: it opens without a key,
  // asks for a read key on the first 401 of the API, and sends it on every API call.
  if (read && (path === '/' || path === '/index.html' || path.startsWith('/assets/')))
    return 'public';
  if (m === 'POST' && OTLP_PATHS.has(path)) return 'ingest';
  if (m === 'POST' && path === WEBHOOK_PATH) return 'signed';
  if (path === '/api/v1/keys' || path.startsWith('/api/v1/keys/')) return 'admin';
  if (read) return 'read';
  return 'admin';
}

/** Whether a key of `role` may use a route that needs `needed` (admin may do everything). */
export function roleAllows(role: ApiKeyRole, needed: ApiKeyRole): boolean {
  return role === 'admin' || role === needed;
}

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Whether the server binds a loopback interface only (HM_HOST). */
export function isLoopbackBind(host: string): boolean {
  const h = host.trim().toLowerCase();
  return LOOPBACK_NAMES.has(h) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** The host name of a Host header, lower-cased, without the port (`[::1]:4318` → `[::1]`). */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end < 0 ? h : h.slice(0, end + 1);
  }
  const colon = h.lastIndexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

/**
 * Why a Host header is refused, or undefined when it is fine. On a loopback bind only the loopback
 * names (and HM_ALLOWED_HOSTS) are accepted, against DNS rebinding: a page on evil.example that
 * resolves to 127.0.0.1 still sends `Host: evil.example`. Elsewhere the check applies once
 * HM_ALLOWED_HOSTS is set.
 */
export function hostRefusal(
  header: string | undefined,
  bind: string,
  allowed: readonly string[],
): string | undefined {
  const loopback = isLoopbackBind(bind);
  if (!loopback && allowed.length === 0) return undefined;
  const name = header === undefined ? '' : hostName(header);
  if (LOOPBACK_NAMES.has(name) || allowed.includes(name)) return undefined;
  const accepted = [...LOOPBACK_NAMES].filter((n) => n !== '::1').concat(allowed);
  return `Host ${JSON.stringify(header ?? '')} is not served here: use one of ${accepted.join(', ')} (any port), or add the name to HM_ALLOWED_HOSTS.`;
}
