/**
 * The one place the page talks to the server: GET /api/v1/<route>, with the read key the user pasted
 * (sessionStorage, this tab only) as a bearer token. Routes answer `{ report, rows }`; if that shape
 * changes, `rowsOf` is the one edit.
 */
const KEY = 'harness-meter.api-key';

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
  /** The server wants a key (401) or this key may not read (403). */
  get auth(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

export function apiKey(): string {
  try {
    return sessionStorage.getItem(KEY) ?? '';
  } catch {
    return '';
  }
}

export function setApiKey(key: string): void {
  if (key.trim() === '') sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, key.trim());
}

export type Params = Record<string, string | number | null | undefined>;

function rowsOf<T>(body: unknown): T[] {
  if (Array.isArray(body)) return body as T[];
  if (body && typeof body === 'object' && Array.isArray((body as { rows?: unknown }).rows))
    return (body as { rows: T[] }).rows;
  throw new ApiError(500, 'Unexpected answer from the API: no rows.');
}

/** Answers are reused for this long: pages that ask the same route share one request. */
const CACHE_MS = 15_000;
const cache = new Map<string, { at: number; answer: Promise<unknown> }>();

/** Rows of one API route (the same URL within CACHE_MS is fetched once). */
export function getRows<T>(route: string, params: Params = {}): Promise<T[]> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== null && v !== undefined && String(v) !== '') q.set(k, String(v));
  const url = `/api/v1/${route}${q.size > 0 ? `?${q.toString()}` : ''}`;
  const hit = cache.get(url);
  let p = hit && Date.now() - hit.at < CACHE_MS ? hit.answer : undefined;
  if (!p) {
    p = load(url);
    cache.set(url, { at: Date.now(), answer: p });
    p.catch(() => cache.delete(url));
  }
  return p.then((b) => rowsOf<T>(b));
}

async function load(url: string): Promise<unknown> {
  const key = apiKey();
  const res = await fetch(url, {
    headers: { Accept: 'application/json', ...(key ? { Authorization: `Bearer ${key}` } : {}) },
  });
  if (!res.ok) {
    let message = `${String(res.status)} ${res.statusText}`;
    try {
      const body = (await res.json()) as { error?: string; message?: string };
      message = body.error ?? body.message ?? message;
    } catch {
      /* not JSON: keep the status line */
    }
    if (res.status === 401)
      message = `This server needs an API key with the read role (${message}). Paste one below.`;
    if (res.status === 403)
      message = `This key may not read reports (${message}). Use a key with the read role.`;
    throw new ApiError(res.status, message);
  }
  return res.json();
}
