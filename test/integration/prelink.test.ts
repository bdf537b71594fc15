import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  costPerMergedPr,
  costPerPr,
  insertPrFacts,
  linkageReport,
  migrateUp,
  prelinkNow,
  prSessions,
  wasteSeries,
  type ClickHouseClient,
  type PrCommitRow,
} from '@harness-meter/queries';
import { startBackgroundPrelink } from '../../pipeline/src/detect/index.js';
import { withPrelinked } from '../../queries/src/prelink.js';
import { linkedParams, reportSql, runReport } from '../../queries/src/reports.js';
import { openTempStore } from '../helpers/store.js';

/**
 * The prelinked reports (usage_linked_hour, pr_links, pr_state; queries/src/prelink.ts) against the
 * links computed in the query from the facts (prelinked: false, the reference), on a generated
 * dataset: every rule (explicit, commit, branch with reused branch names, trailer, none), waste
 * findings, spans stored after the PR facts and PR facts stored after the spans.
 */
const DB = 'hm_prelink';
let client: ClickHouseClient;

const DAY = 86_400_000;
const START = new Date('2026-11-01T00:00:00Z');
const window = { since: START, until: new Date('2026-11-25T00:00:00Z') };
const ts = (d: Date): string => d.toISOString().replace('T', ' ').replace('Z', '');
const cmd = (query: string, params: Record<string, unknown> = {}) =>
  client.command({ query, query_params: { db: DB, ...params } });
const count = async (query: string): Promise<number> => {
  const rs = await client.query({ query, query_params: { db: DB }, format: 'JSONEachRow' });
  return Number((await rs.json<{ n: string }>())[0]?.n);
};

/**
 * Sessions [from, to): 20 spans each, 2 of 3 LLM calls, on PR p = s % 40 + 1 of repo acme/r<p % 3>
 * (one of the URL spellings). s % 5: 0 explicit PR, 1 branch feat/<p % 20> (two PRs share it), 2 the
 * PR's head commit on branch wip, 3 an Agent-Session trailer names it, 4 nothing.
 */
async function insertSessions(from: number, to: number, dayOffset: number): Promise<void> {
  await cmd(
    `INSERT INTO {db:Identifier}.spans
       (Timestamp, EndTimestamp, TraceId, SpanId, span_type, model, provider, session_id, developer, team,
        repo, branch, commit, pr, intent, input_tokens, output_tokens, cost_nanos, unpriced, tool_name)
     SELECT
       toDateTime64({start:DateTime64(3, 'UTC')}, 9, 'UTC') + toIntervalMinute(s * 83 + k * 7) AS t, t,
       concat('tr', toString(s)), concat('sp', toString(n)), if(k % 3 = 0, 'tool', 'llm'),
       if(k % 3 = 0, '', 'claude-sonnet-4-5'), 'anthropic', concat('s', toString(s)),
       concat('dev', toString(s % 7)), concat('team', toString(s % 3)),
       [concat('https://github.com/acme/r', toString(p % 3), '.git'), concat('git@github.com:Acme/R', toString(p % 3), '.git'),
        concat('acme/r', toString(p % 3))][s % 3 + 1],
       multiIf(s % 5 = 1, concat('feat/', toString(p % 20)), s % 5 = 2, 'wip', concat('b', toString(s))),
       if(s % 5 = 2, concat('sha', toString(p)), ''),
       if(s % 5 = 0, p, 0), 'implement', if(k % 3 = 0, 0, 1000), if(k % 3 = 0, 0, 50),
       if(k % 3 = 0 OR k % 11 = 5, NULL, toInt64(1000 + n % 997)), toUInt8(k % 11 = 5 AND k % 3 != 0),
       if(k % 3 = 0, 'Read', '')
     FROM (SELECT number AS n, intDiv(number, 20) + {from:UInt32} AS s, number % 20 AS k,
                  toUInt32((intDiv(number, 20) + {from:UInt32}) % 40 + 1) AS p
           FROM numbers({count:UInt32}))`,
    { start: ts(new Date(START.getTime() + dayOffset * DAY)), from, count: (to - from) * 20 },
  );
}

/**
 * PR events of PRs [from, to): opened (head sha<p>, branch feat/<p % 20>), merged 1 day later, or
 * for p % 4 = 3 closed then (PRs that share a branch follow each other), p % 8 = 7 reopened 2 days later.
 */
async function insertPrEvents(from: number, to: number): Promise<void> {
  await cmd(
    `INSERT INTO {db:Identifier}.pr_events
       (repo, pr, event_key, kind, at, author, actor, head_branch, base_branch, head_sha, created_at,
        review_state, check_name, check_conclusion, additions, deletions, changed_files, source, delivery_id)
     SELECT concat('acme/r', toString(p % 3)), p, e.1, e.2,
            toDateTime64({start:DateTime64(3, 'UTC')}, 3, 'UTC') + toIntervalHour(p * 11 + e.3),
            'dev', '', concat('feat/', toString(p % 20)), 'main', concat('sha', toString(p)), NULL,
            '', '', '', toUInt32(p), toUInt32(p % 7), 2, 'import-prs', ''
     FROM (SELECT toUInt32(number) AS p FROM numbers({from:UInt32}, {count:UInt32}))
     ARRAY JOIN arrayFilter(x -> (x.2 != 'merged' OR p % 4 != 3) AND (x.2 != 'closed' OR p % 4 = 3)
                                 AND (x.2 != 'reopened' OR p % 8 = 7),
       [('opened', 'opened', 0), ('merged', 'merged', 24), ('closed:1', 'closed', 24),
        ('reopened:1', 'reopened', 48)]) AS e`,
    { start: ts(START), from, count: to - from },
  );
}

/** Agent-Session trailers of the sessions s % 5 = 3 in [from, to), through insertPrFacts. */
async function insertTrailers(from: number, to: number): Promise<void> {
  const commits: PrCommitRow[] = [];
  for (let s = from; s < to; s++) {
    if (s % 5 !== 3) continue;
    const p = (s % 40) + 1;
    const base = {
      repo: `acme/r${String(p % 3)}`,
      branch: '',
      author: 'dev',
      committed_at: ts(START),
      delivery_id: '',
    };
    commits.push(
      { ...base, sha: `t${String(s)}`, source: 'import-git', pr: 0, session_id: `s${String(s)}` },
      { ...base, sha: `t${String(s)}`, source: 'import-prs', pr: p, session_id: '' },
    );
  }
  await insertPrFacts(client, DB, { events: [], commits });
}

/** Waste findings of sessions s % 6 = 0 in [from, to), on their first tool span, in one scan. */
async function insertFindings(from: number, to: number, dayOffset: number): Promise<void> {
  await cmd(
    `INSERT INTO {db:Identifier}.waste_findings
       (session_id, span_id, trace_id, scan_id, Timestamp, kind, repeats_span_id, tool_name, repo, pr,
        developer, team, result_tokens, wasted_tokens, direct_cost_nanos, carried_tokens, carried_cost_nanos,
        loop_length, fully_priced)
     SELECT concat('s', toString(s)), concat('sp', toString((s - {from:UInt32}) * 20)), concat('tr', toString(s)), 1,
            toDateTime64({start:DateTime64(3, 'UTC')}, 9, 'UTC') + toIntervalMinute(s * 83), 're_read', '', 'Read',
            concat('acme/r', toString((s % 40 + 1) % 3)), 0, concat('dev', toString(s % 7)), concat('team', toString(s % 3)),
            500, 520, 1500, 1000, 300, 0, 1
     FROM (SELECT toUInt32(number) AS s FROM numbers({from:UInt32}, {count:UInt32})) WHERE s % 6 = 0`,
    { start: ts(new Date(START.getTime() + dayOffset * DAY)), from, count: to - from },
  );
  await cmd(
    `INSERT INTO {db:Identifier}.session_scans (session_id, scan_id, last_ingested_at, spans, findings)
     SELECT concat('s', toString(number)), 1, now64(3), 20, 1 FROM numbers({from:UInt32}, {count:UInt32})`,
    { from, count: to - from },
  );
}

/** Every prelinked report equals the reference, on the whole window and filtered. */
async function expectSameReports(): Promise<void> {
  const variants = [
    { db: DB, ...window },
    { db: DB, ...window, team: 'team1' },
    { db: DB, since: new Date(START.getTime() + 3 * DAY), until: window.until, repo: 'acme/r2' },
    // Unfiltered windows that cut PRs: their totals (migration 0023) beside the hourly rows.
    { db: DB, since: new Date(START.getTime() + 3 * DAY + 1_234), until: window.until },
    { db: DB, since: new Date(START.getTime() + DAY), until: new Date('2026-12-20T00:00:00Z') },
  ];
  for (const o of variants) {
    const cost = await costPerPr(client, o);
    expect(cost.some((r) => r.pr !== null && r.rules.includes('trailer'))).toBe(true);
    expect(cost).toEqual(await costPerPr(client, { ...o, prelinked: false }));
    expect(await linkageReport(client, o)).toEqual(
      await linkageReport(client, { ...o, prelinked: false }),
    );
    expect(await costPerMergedPr(client, o)).toEqual(
      await costPerMergedPr(client, { ...o, prelinked: false }),
    );
    // The waste series from the hourly findings table (migration 0023) equals the findings read.
    for (const step of [3_600, 86_400])
      expect(await wasteSeries(client, { ...o, step })).toEqual(
        await wasteSeries(client, { ...o, step, prelinked: false }),
      );
    for (const [prRepo, pr] of [
      ['acme/r1', 1],
      ['acme/r2', 5],
      ['acme/r0', null],
    ] as const) {
      expect(await prSessions(client, { ...o, prRepo, pr })).toEqual(
        await prSessions(client, { ...o, prRepo, pr, prelinked: false }),
      );
    }
  }
  // The prelinked path was taken: everything marked was re-linked.
  expect(await count('SELECT count() AS n FROM {db:Identifier}.link_dirty')).toBe(0);
  expect(
    await count('SELECT sum(llm_calls + tool_calls) AS n FROM {db:Identifier}.usage_linked_hour'),
  ).toBe(await count(`SELECT count() AS n FROM {db:Identifier}.spans`));
  // …with one current totals row per PR that has linked rows (migration 0023)…
  expect(
    await count(
      'SELECT count() AS n FROM {db:Identifier}.pr_linked_totals FINAL WHERE present = 1',
    ),
  ).toBe(
    await count(
      `SELECT count() AS n FROM (SELECT DISTINCT repo_key, link_pr FROM {db:Identifier}.usage_linked_hour
       UNION DISTINCT SELECT DISTINCT repo_key, link_pr FROM {db:Identifier}.waste_linked_hour)`,
    ),
  );
  // …and the waste of every session's latest scan is stored linked (migration 0020).
  expect(await count('SELECT sum(wasted_tokens) AS n FROM {db:Identifier}.waste_linked_hour')).toBe(
    await count(
      `SELECT sum(f.wasted_tokens) AS n FROM {db:Identifier}.waste_findings AS f FINAL
       INNER JOIN (SELECT session_id, max(scan_id) AS scan_id FROM {db:Identifier}.session_scans GROUP BY session_id) AS l
       ON f.session_id = l.session_id AND f.scan_id = l.scan_id`,
    ),
  );
}

beforeAll(async () => {
  ({ client } = await openTempStore('prelink'));
  await migrateUp(client, DB);
});

afterAll(async () => {
  await client.close();
});

describe('prelinked linkage reports (migration 0016)', () => {
  it('equal the links computed from the facts as spans and PR facts arrive in either order', async () => {
    // Spans first, then the facts of their PRs.
    await insertSessions(0, 120, 0);
    await insertFindings(0, 120, 0);
    await insertPrEvents(1, 30);
    await insertTrailers(0, 120);
    await expectSameReports();
    // Spans after the facts, some in hours already linked (day 0 again), more PRs, more trailers.
    await insertSessions(120, 200, 0);
    await insertSessions(200, 260, 6);
    await insertFindings(200, 260, 6);
    await insertTrailers(120, 260);
    await expectSameReports();
    // PR facts after the spans: the other PRs, which re-link spend already charged elsewhere.
    await insertPrEvents(30, 41);
    await expectSameReports();
  }, 180_000); // three rounds of every linked report, both ways: about 20 s alone, 60 s beside other files under load

  it('a window ending before a stored PR fact computes the links as of its end', async () => {
    // As of day 5, PRs 11 to 40 had not opened: the links stored (as of now) would differ.
    const o = { db: DB, since: START, until: new Date(START.getTime() + 5 * DAY) };
    expect(await costPerPr(client, o)).toEqual(await costPerPr(client, { ...o, prelinked: false }));
  });

  it('a new scan replaces the prelinked waste of its session (fewer findings, or none)', async () => {
    const before = await costPerPr(client, { db: DB, ...window });
    // Sessions 0, 6, …, 114 scanned again: s % 12 = 0 keep one smaller finding, s % 12 = 6 none.
    await cmd(
      `INSERT INTO {db:Identifier}.waste_findings
         (session_id, span_id, trace_id, scan_id, Timestamp, kind, repeats_span_id, tool_name, repo, pr,
          developer, team, result_tokens, wasted_tokens, direct_cost_nanos, carried_tokens, carried_cost_nanos,
          loop_length, fully_priced)
       SELECT concat('s', toString(s)), concat('sp', toString(s * 20 + 3)), concat('tr', toString(s)), 2,
              toDateTime64({start:DateTime64(3, 'UTC')}, 9, 'UTC') + toIntervalMinute(s * 83 + 21), 're_read', '',
              'Read', concat('acme/r', toString((s % 40 + 1) % 3)), 0, concat('dev', toString(s % 7)),
              concat('team', toString(s % 3)), 100, 90, 700, 0, 0, 0, 1
       FROM (SELECT toUInt32(number) AS s FROM numbers(120)) WHERE s % 12 = 0`,
      { start: ts(START) },
    );
    await cmd(
      `INSERT INTO {db:Identifier}.session_scans (session_id, scan_id, last_ingested_at, spans, findings)
       SELECT concat('s', toString(number)), 2, now64(3), 20, number % 12 = 0 FROM numbers(120)
       WHERE number % 6 = 0`,
    );
    await expectSameReports();
    expect(await costPerPr(client, { db: DB, ...window })).not.toEqual(before);
  });

  it("the dashboard's waste series counts each session's latest scan only", async () => {
    const series = await wasteSeries(client, { db: DB, ...window, step: 86_400 });
    const latest = (what: string) =>
      count(
        `SELECT ${what} AS n FROM {db:Identifier}.waste_findings AS f FINAL
         INNER JOIN (SELECT session_id, max(scan_id) AS scan_id FROM {db:Identifier}.session_scans GROUP BY session_id) AS l
         ON f.session_id = l.session_id AND f.scan_id = l.scan_id
         WHERE f.Timestamp >= '${ts(window.since)}' AND f.Timestamp < '${ts(window.until)}'`,
      );
    expect(series.reduce((a, p) => a + p.wasted_tokens, 0)).toBe(
      await latest('sum(f.wasted_tokens)'),
    );
    expect(series.reduce((a, p) => a + p.occurrences, 0)).toBe(await latest('count()'));
    // Scan 2 replaced scan 1's findings of 20 sessions: counting every scan would give more.
    expect(await count('SELECT count() AS n FROM {db:Identifier}.waste_findings')).toBeGreaterThan(
      await latest('count()'),
    );
  });

  it("the waste series' partial first and last hours read the findings, to the millisecond", async () => {
    // After the rescan above, day 0 holds the findings of sessions 0, 12, 24 at s × 83 + 21 min (0:21,
    // 16:57, 33:33); day 6 those of 200–259 at s × 83 min. The windows cut inside their hours.
    const at = (h: number, min: number, ms = 0) =>
      new Date(START.getTime() + h * 3_600_000 + min * 60_000 + ms);
    const windows = [
      { since: at(16, 50), until: at(33, 40) }, // both ends inside an hour, around 16:57 and 33:33
      { since: at(16, 58), until: at(33, 33) }, // …and leaving them out (until is exclusive)
      { since: at(2, 30), until: at(150, 10) },
      { since: at(6, 5, 1), until: at(6, 50) }, // inside one hour
      { since: at(1, 20), until: at(3, 0) }, // whole last hour
      { since: at(0, 0), until: at(400, 0, 1) },
      { since: at(145, 30), until: at(500, 30), team: 'team1', repo: 'acme/r2' },
    ];
    for (const w of windows) {
      const o = { db: DB, ...w };
      const hourly = await wasteSeries(client, { ...o, step: 3_600 });
      expect(hourly).toEqual(await wasteSeries(client, { ...o, step: 3_600, prelinked: false }));
      expect(await wasteSeries(client, { ...o, step: 7_200 })).toEqual(
        await wasteSeries(client, { ...o, step: 7_200, prelinked: false }),
      );
    }
    // The partial hours' findings count to the millisecond: in the first window, not in the second.
    const buckets = async (i: number) =>
      (await wasteSeries(client, { db: DB, ...windows[i]!, step: 3_600 })).map((p) => p.bucket);
    expect(await buckets(0)).toEqual(['2026-11-01 16:00:00', '2026-11-02 09:00:00']);
    expect(await buckets(1)).toEqual([]);
  });

  it('a window ending inside an hour with later findings reads the findings', async () => {
    // After every PR fact (so the stored links hold), ending at 500:30: session 258's finding lies at
    // 500:54 (day 6 + 258 × 83 min).
    const o = {
      db: DB,
      since: START,
      until: new Date(START.getTime() + 500 * 3_600_000 + 30 * 60_000),
    };
    const late = await count(
      `SELECT count() AS n FROM {db:Identifier}.waste_findings
       WHERE Timestamp >= '${ts(o.until)}' AND toStartOfHour(Timestamp) = toStartOfHour(toDateTime64('${ts(o.until)}', 3, 'UTC'))`,
    );
    expect(late).toBeGreaterThan(0);
    expect(await costPerPr(client, o)).toEqual(await costPerPr(client, { ...o, prelinked: false }));
  });

  it('bounded passes leave the rest marked, and reports re-link it', async () => {
    await insertSessions(260, 300, 2);
    await insertPrEvents(41, 45);
    const first = await prelinkNow(client, DB, { hours: 2, repos: 0 });
    expect(first).toMatchObject({ hours: 2, repos: 0, more: true });
    expect(await count('SELECT count() AS n FROM {db:Identifier}.link_dirty')).toBeGreaterThan(0);
    // Spans and PR facts stored between passes; the report re-links what is left.
    await insertSessions(300, 320, 9);
    await insertTrailers(260, 320);
    await prelinkNow(client, DB, { hours: 3, repos: 1 });
    await expectSameReports();
  });

  it('the background re-link empties the marks after writes, without a report', async () => {
    let stored = 0;
    const bg = startBackgroundPrelink(client, DB, () => stored, undefined, {
      intervalMs: 20,
      quietMs: 50,
      limit: { hours: 40, repos: 1 },
    });
    try {
      await insertSessions(320, 360, 11);
      await insertPrEvents(45, 48);
      stored++;
      const left = () => count('SELECT count() AS n FROM {db:Identifier}.link_dirty');
      expect(await left()).toBeGreaterThan(0);
      const deadline = Date.now() + 30_000;
      while ((await left()) > 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(await left()).toBe(0);
    } finally {
      await bg.stop();
    }
    await expectSameReports();
  });

  it('deletes the marks it re-linked as a lightweight update, not a mutation (migration 0025)', async () => {
    await insertSessions(360, 370, 12);
    await insertPrEvents(48, 50);
    expect(await count('SELECT count() AS n FROM {db:Identifier}.link_dirty')).toBeGreaterThan(0);
    await prelinkNow(client, DB);
    expect(await count('SELECT count() AS n FROM {db:Identifier}.link_dirty')).toBe(0);
    // Every pass of this file deleted its marks through a patch part: no mutation of link_dirty.
    expect(
      await count(`SELECT count() AS n FROM system.mutations
        WHERE database = {db:String} AND table = 'link_dirty'`),
    ).toBe(0);
    expect(await costPerPr(client, { db: DB, ...window })).toEqual(
      await costPerPr(client, { db: DB, ...window, prelinked: false }),
    );
  });

  it("passes the probe's columns to the read only when nothing was marked", async () => {
    const until = ts(window.until);
    const probe = { columns: '{x:UInt8} + 1 AS y', params: { x: 41 } };
    const seen = () =>
      withPrelinked(
        client,
        DB,
        until,
        (_pre, _waste, probed) => Promise.resolve(probed),
        true,
        probe,
      );
    await prelinkNow(client, DB);
    expect(Number((await seen())?.y)).toBe(42);
    // A mark (any kind): the check re-links first, so its probe values may be stale.
    await cmd(`INSERT INTO {db:Identifier}.link_dirty (kind, hour, repo) VALUES ('totals', 0, '')`);
    expect(await seen()).toBeUndefined();
    expect(await count('SELECT count() AS n FROM {db:Identifier}.link_dirty')).toBe(0);
  });

  it("cost-per-pr's bound in the check says whole only when the window cuts no PR", async () => {
    await prelinkNow(client, DB);
    const whole = async (w: { since: Date; until: Date }) => {
      const p = linkedParams(DB, w, {});
      const rs = await client.query({
        query: `SELECT ${reportSql('_pr_totals_whole.sql')} AS whole`,
        query_params: p,
        format: 'JSONEachRow',
      });
      const [cut] = await runReport(client, 'cost-per-pr', 'pr_totals_cut.sql', p);
      return { whole: Number((await rs.json<{ whole: number }>())[0]?.whole), cut: Number(cut?.n) };
    };
    // A window holding every PR whole: the bound holds, and the count agrees.
    const all = { since: START, until: new Date('2027-01-01T00:00:00Z') };
    expect(await whole(all)).toEqual({ whole: 1, cut: 0 });
    // Windows that cut PRs (one ms past an hour, a day in): never whole.
    for (const w of [
      { since: new Date(START.getTime() + 3 * DAY + 1_234), until: window.until },
      { since: new Date(START.getTime() + DAY), until: new Date('2026-12-20T00:00:00Z') },
      { since: START, until: new Date(START.getTime() + 3 * DAY) },
      window,
    ]) {
      const r = await whole(w);
      expect(r.cut).toBeGreaterThan(0);
      expect(r.whole).toBe(0);
    }
    // A window after every PR: no PR is cut, but the bound (every row inside) does not hold either.
    expect(
      await whole({
        since: new Date('2027-01-01T00:00:00Z'),
        until: new Date('2027-02-01T00:00:00Z'),
      }),
    ).toEqual({ whole: 0, cut: 0 });
    // And the report taken through the bound equals the reference.
    expect(await costPerPr(client, { db: DB, ...all })).toEqual(
      await costPerPr(client, { db: DB, ...all, prelinked: false }),
    );
  });
});
