/**
 * The view lives in the URL hash, so a link restores it: `#/<page>/<args…>?since=7d&repo=…`.
 * Global controls (time range, filters, series dimension) are query parameters of the hash.
 */
export type Page = 'overview' | 'prs' | 'pr' | 'session' | 'waste' | 'alerts';
export const PAGES: readonly Page[] = ['overview', 'prs', 'pr', 'session', 'waste', 'alerts'];

export const FILTERS = ['repo', 'team', 'developer', 'model'] as const;
export type Filter = (typeof FILTERS)[number];

export interface View {
  page: Page;
  args: string[];
  q: Record<string, string>;
}

export const DEFAULT_SINCE = '7d';

export function parseHash(hash: string): View {
  const h = hash.replace(/^#\/?/, '');
  const [path = '', query = ''] = h.split('?', 2);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const first = parts[0] ?? 'overview';
  const page = (PAGES as readonly string[]).includes(first) ? (first as Page) : 'overview';
  const q: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(query)) if (v !== '') q[k] = v;
  return { page, args: parts.slice(1), q };
}

export function hrefOf(view: View): string {
  const path = [view.page, ...view.args].map(encodeURIComponent).join('/');
  const q = new URLSearchParams();
  for (const k of Object.keys(view.q).sort()) {
    const v = view.q[k];
    if (v) q.set(k, v);
  }
  return `#/${path}${q.size > 0 ? `?${q.toString()}` : ''}`;
}

/** The window and filters every API call of a view takes. */
export function windowParams(q: Record<string, string>): Record<string, string> {
  const p: Record<string, string> = { since: q.since ?? DEFAULT_SINCE };
  if (q.until) p.until = q.until;
  for (const f of FILTERS) if (q[f]) p[f] = q[f];
  return p;
}

const UNIT_S: Record<string, number> = { m: 60, h: 3600, d: 86_400, w: 604_800 };

/** A bound as the server reads it (`now`, `7d`, ISO date or date-time), in seconds since the epoch. */
export function boundSeconds(text: string | undefined, fallback: number, now = Date.now()): number {
  if (!text || text === 'now') return text ? now / 1000 : fallback;
  const rel = /^(\d+)\s*([mhdw])$/i.exec(text.trim());
  if (rel) return now / 1000 - Number(rel[1]) * (UNIT_S[rel[2]!.toLowerCase()] ?? 0);
  const t = text.trim();
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(t)
    ? `${t}T00:00:00Z`
    : /[zZ]|[+-]\d{2}:?\d{2}$/.test(t)
      ? t
      : `${t}Z`;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? fallback : ms / 1000;
}

const STEPS = [60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 7 * 86_400];

/** The series buckets of a view: the step asked of the API and every bucket start of the window. */
export function buckets(q: Record<string, string>, points = 48): { step: number; xs: number[] } {
  const to = boundSeconds(q.until, Date.now() / 1000 + 60);
  const from = boundSeconds(q.since ?? DEFAULT_SINCE, to - 7 * 86_400);
  const step = STEPS.find((s) => s >= (to - from) / points) ?? STEPS[STEPS.length - 1]!;
  const xs: number[] = [];
  for (let x = Math.floor(from / step) * step; x < to && xs.length < 2000; x += step) xs.push(x);
  return { step, xs };
}
