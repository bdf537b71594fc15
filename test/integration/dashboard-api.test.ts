import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  costBy,
  costSeries,
  dashboardFilters,
  dashboardSummary,
  type ReportWindow,
} from '@harness-meter/queries';
import type { RunningServer } from '../../pipeline/src/embedded.js';
import { sendSpans, startTestServer } from '../helpers/server.js';
import { sonnetSpan, SONNET_SPAN_COST_NANOS } from '../helpers/otlp-json.js';

// The dashboard's totals read whole hours from the hourly rollup (migration 0012) and the edges from
// the per-minute one: for any window they must equal `report cost` (per-minute rollup only).

const DB = 'hm_it_dash';
let server: RunningServer;
const HOUR = 3_600_000;
const base = Math.floor(Date.now() / HOUR) * HOUR - 10 * HOUR; // an hour boundary, 10 hours ago
// One span at minute 7, 31 and 58 of each of 8 hours, for two developers.
const offsets = Array.from({ length: 8 }, (_, h) =>
  [7, 31, 58].map((m) => h * HOUR + m * 60_000),
).flat();

beforeAll(async () => {
  server = await startTestServer('dash-api', DB);
  await sendSpans(
    server,
    // ids from 1: an all-zero trace id is invalid OTLP
    offsets.map((o, i) => {
      const s = sonnetSpan(
        (i + 1).toString(16).padStart(32, '0'),
        (i + 1).toString(16).padStart(16, '0'),
        base + o + 5_000,
      );
      return { ...s, attributes: { ...s.attributes, 'user.id': i % 2 === 0 ? 'ana' : 'ben' } };
    }),
  );
}, 120_000);
afterAll(() => server?.stop());

const at = (hours: number, minutes = 0): Date => new Date(base + hours * HOUR + minutes * 60_000);

describe('dashboard totals and series over the hourly rollup', () => {
  const windows: [string, ReportWindow][] = [
    ['aligned hours', { since: at(1), until: at(5) }],
    ['edges inside hours', { since: at(0, 30), until: at(6, 45) }],
    ['within one hour', { since: at(2, 10), until: at(2, 59) }],
    ['seconds past a minute', { since: new Date(at(1, 7).getTime() + 20_000), until: at(3, 31) }],
    ['everything', { since: at(-1), until: at(12) }],
  ];
  for (const [name, w] of windows)
    it(`summary equals report cost: ${name}`, async () => {
      const s = await dashboardSummary(server.client, { db: DB, ...w });
      const byDev = await costBy(server.client, { db: DB, by: 'developer', ...w });
      const want = byDev.reduce((t, r) => t + BigInt(r.cost_nanos), 0n);
      expect(s.cost_nanos).toBe(want.toString());
      expect(s.llm_calls).toBe(byDev.reduce((t, r) => t + r.llm_calls, 0));
      expect(BigInt(s.cost_nanos) % SONNET_SPAN_COST_NANOS).toBe(0n);
      const ana = await dashboardSummary(server.client, { db: DB, ...w, developer: 'ana' });
      expect(ana.cost_nanos).toBe(byDev.find((r) => r.key === 'ana')?.cost_nanos ?? '0');
    });

  it('counts spans in the window exactly (23 of 24 in "edges inside hours")', async () => {
    const s = await dashboardSummary(server.client, { db: DB, since: at(0, 30), until: at(6, 45) });
    // hour 0: minutes 31, 58; hours 1–5: 3 each; hour 6: 7, 31 → 2 + 15 + 2
    expect(s.llm_calls).toBe(19);
    expect(s.cost_nanos).toBe((19n * SONNET_SPAN_COST_NANOS).toString());
  });

  it('series add up to the summary, hourly and by minutes', async () => {
    const w = { since: at(0, 30), until: at(6, 45) };
    const total = await dashboardSummary(server.client, { db: DB, ...w });
    for (const step of [3600, 900, 86_400]) {
      const rows = await costSeries(server.client, { db: DB, ...w, by: 'developer', step });
      expect(rows.reduce((t, r) => t + BigInt(r.cost_nanos), 0n).toString(), String(step)).toBe(
        total.cost_nanos,
      );
      for (const r of rows)
        expect(Date.parse(`${r.bucket.replace(' ', 'T')}Z`) % (step * 1000), String(step)).toBe(0);
    }
    const quarter = await costSeries(server.client, { db: DB, ...w, by: 'developer', step: 900 });
    expect(new Set(quarter.map((r) => r.bucket)).size).toBe(19); // one span per quarter-hour bucket
  });

  it('filter lists: each dimension, most spend first', async () => {
    const f = await dashboardFilters(server.client, { db: DB, since: at(-1), until: at(12) });
    expect(f.developer).toEqual(['ana', 'ben']);
    expect(f.repo).toEqual(['https://github.com/acme/api']);
    expect(f.model).toEqual(['claude-sonnet-4-5-20250929']);
    expect(f.team).toEqual([]);
  });
});
