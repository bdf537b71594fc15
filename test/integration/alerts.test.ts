import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertsReport, migrateUp, spendBy, type ClickHouseClient } from '@harness-meter/queries';
import {
  checkAlerts,
  parseRules,
  startAlertStage,
  type AlertEngineOptions,
  type AlertNotice,
  type WebhookBody,
} from '../../pipeline/src/alerts/index.js';
import { scanStaleSessions } from '../../pipeline/src/detect/index.js';
import { createLogger, silentLogger } from '../../pipeline/src/logger.js';
import type { PricedSpan } from '../../pipeline/src/model.js';
import { loadPriceBook } from '../../pipeline/src/price/index.js';
import { createSpanSink } from '../../pipeline/src/sink/sink.js';
import { pricedSpan } from '../helpers/spans.js';
import { openTempStore } from '../helpers/store.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook.js';

const USD = 1_000_000_000n;
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SECRET = 'alert-test-secret';

let client: ClickHouseClient;
let hook: WebhookReceiver;
beforeAll(async () => {
  ({ client } = await openTempStore('alerts'));
  hook = await startWebhookReceiver();
});
afterAll(async () => {
  await hook.close();
  await client.close();
});

/** A fresh database with the schema, and the spans stored through the real sink. */
async function store(db: string, spans: PricedSpan[]): Promise<void> {
  await migrateUp(client, db);
  const sink = createSpanSink(client, { db, maxSpans: 10_000, maxWaitMs: 5 });
  for (let i = 0; i < spans.length; i += 5000) await sink.write(spans.slice(i, i + 5000));
  await sink.close();
}

const ns = (ms: number): bigint => BigInt(ms) * 1_000_000n;
function llm(at: number, o: { session: string; developer: string; team?: string; usd: bigint }) {
  return pricedSpan({
    startTimeUnixNano: ns(at),
    endTimeUnixNano: ns(at + 1000),
    spanType: 'llm',
    operation: 'chat',
    provider: 'anthropic',
    requestModel: 'claude-sonnet-4-5',
    responseModel: 'claude-sonnet-4-5',
    sessionId: o.session,
    developer: o.developer,
    team: o.team ?? 'payments',
    repo: 'acme/api',
    inputTokens: 1000,
    outputTokens: 100,
    priceId: 'test',
    costNanos: o.usd,
  });
}

const notSleeping = { sleep: () => Promise.resolve(), random: () => 0.5 };
function engine(db: string, rules: unknown[], extra: Partial<AlertEngineOptions> = {}) {
  return {
    client,
    db,
    rules: parseRules({ rules }),
    logger: silentLogger,
    webhook: { url: hook.url, secret: SECRET },
    delivery: notSleeping,
    ...extra,
  } satisfies AlertEngineOptions;
}
const bodies = (from: number): WebhookBody[] =>
  hook
    .accepted()
    .slice(from)
    .map((r) => JSON.parse(r.body) as WebhookBody);

describe('alerts on stored data (chDB)', () => {
  it('a normal week raises nothing; a spike raises exactly one alert, not re-sent after a restart, then resolves', async () => {
    const db = 'hm_alerts_spike';
    // Monday 2026-11-02 00:00 UTC. ana spends $1 at hh:30 of every hour, bob $0.50, for 8 days and 12 hours.
    const T0 = Date.UTC(2026, 10, 2);
    const spans: PricedSpan[] = [];
    for (let h = 0; h < 8 * 24 + 12; h++) {
      const at = T0 + h * HOUR + 30 * MIN;
      spans.push(llm(at, { session: `ana-${Math.floor(h / 4)}`, developer: 'ana', usd: USD }));
      spans.push(llm(at, { session: `bob-${Math.floor(h / 4)}`, developer: 'bob', usd: USD / 2n }));
    }
    // The spike: Tuesday of week 2 (2026-11-10), 10:10 and 10:20, $5 each, one session.
    const SPIKE = T0 + 8 * DAY + 10 * HOUR;
    spans.push(llm(SPIKE + 10 * MIN, { session: 'ana-runaway', developer: 'ana', usd: 5n * USD }));
    spans.push(llm(SPIKE + 20 * MIN, { session: 'ana-runaway', developer: 'ana', usd: 5n * USD }));
    await store(db, spans);
    const spikeRules = [
      { id: 'dev-spike', type: 'spike', scope: 'developer', factor: 3, minUsd: '2', weeks: 4 },
    ];
    const e = engine(db, spikeRules);
    const seen = hook.accepted().length;

    // Replay: an evaluation at hh:45 of every hour, from the first hour to the hour before the spike.
    const fired: AlertNotice[] = [];
    for (let at = T0 + 45 * MIN; at < SPIKE; at += HOUR)
      fired.push(...(await checkAlerts(e, new Date(at))).notices);
    expect(fired).toEqual([]);

    // 10:45: window (09:45, 10:45] holds ana's $1 at 10:30 and the $10 spike; a week before, $1.
    const spikeAt = new Date(SPIKE + 45 * MIN);
    const first = await checkAlerts(e, spikeAt);
    expect(first.notices).toHaveLength(1);
    const n = first.notices[0] as AlertNotice;
    expect(n).toMatchObject({
      state: 'firing',
      rule_id: 'dev-spike',
      rule_type: 'spike',
      entity_kind: 'developer',
      entity: 'ana',
      window_start: '2026-11-10 10:00:00',
      unit: 'nano_usd',
      figure: '11000000000',
      baseline: '1000000000',
      baseline_source: 'entity',
      threshold: '3000000000',
      figure_usd: '$11.00',
      baseline_usd: '$1.00',
    });
    expect(n.top_sessions[0]).toMatchObject({
      session_id: 'ana-runaway',
      cost_nanos: '10000000000',
    });
    expect(n.command).toBe(
      'harness-meter report cost --by session --since 2026-11-10T09:45:00Z --until 2026-11-10T10:46:00Z',
    );
    expect(first.deliveries).toEqual([
      { notice_id: n.notice_id, status: 'delivered', attempts: 1 },
    ]);

    // Delivered once, signed, Slack-compatible.
    const got = hook.accepted().slice(seen);
    expect(got).toHaveLength(1);
    const raw = got[0]?.body ?? '';
    expect(got[0]?.headers['x-harnessmeter-signature']).toBe(
      `sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}`,
    );
    const body = JSON.parse(raw) as WebhookBody;
    expect(body.alert).toEqual(n);
    expect(body.text).toContain('*[firing] dev-spike* (spike): developer ana spent $11.00');
    expect(body.text).toContain('Top sessions: ana-runaway ($10.00, 2 LLM calls)');

    // Still spiking a few minutes later, by the same evaluator and by a restarted one: nothing new.
    expect((await checkAlerts(e, new Date(SPIKE + 50 * MIN))).notices).toEqual([]);
    const restarted = startAlertStage(engine(db, spikeRules), {
      intervalMs: 3_600_000,
    });
    expect((await restarted.check(new Date(SPIKE + 55 * MIN))).notices).toEqual([]);
    await restarted.stop();
    expect(hook.accepted().length - seen).toBe(1);

    // 11:50: the spike left the window (10:50, 11:50]: resolved, once.
    const resolved = await checkAlerts(e, new Date(SPIKE + HOUR + 50 * MIN));
    expect(resolved.notices.map((x) => [x.state, x.entity, x.alert_id])).toEqual([
      ['resolved', 'ana', n.alert_id],
    ]);
    expect(resolved.notices[0]).toMatchObject({
      entity_kind: 'developer',
      summary:
        'developer ana: dev-spike no longer holds (alert opened in the window starting 2026-11-10 10:00:00 UTC)',
    });
    expect((await checkAlerts(e, new Date(SPIKE + HOUR + 55 * MIN))).notices).toEqual([]);
    expect(bodies(seen).map((b) => b.alert.state)).toEqual(['firing', 'resolved']);

    const report = await alertsReport(client, {
      db,
      since: new Date(T0),
      until: new Date(T0 + 30 * DAY),
    });
    expect(report.map((r) => [r.state, r.entity, r.figure, r.delivery, r.attempts])).toEqual([
      ['resolved', 'ana', '0', 'delivered', 1],
      ['firing', 'ana', '11000000000', 'delivered', 1],
    ]);
  });

  it('a new developer with no history is compared with the team baseline', async () => {
    const db = 'hm_alerts_newdev';
    const T0 = Date.UTC(2026, 10, 2);
    const spans: PricedSpan[] = [];
    // Week 1 at 10:30 each day: ana $1 and bob $3 (team payments: $2 per developer).
    for (let d = 0; d < 8; d++) {
      spans.push(llm(T0 + d * DAY + 10.5 * HOUR, { session: `a${d}`, developer: 'ana', usd: USD }));
      spans.push(
        llm(T0 + d * DAY + 10.5 * HOUR, { session: `b${d}`, developer: 'bob', usd: 3n * USD }),
      );
    }
    // Day 8 (a week after day 1): newcomer cleo spends $7 at 10:30, dan (team infra, no history) $50.
    spans.push(llm(T0 + 8 * DAY + 10.5 * HOUR, { session: 'c', developer: 'cleo', usd: 7n * USD }));
    spans.push(
      llm(T0 + 8 * DAY + 10.5 * HOUR, {
        session: 'd',
        developer: 'dan',
        team: 'infra',
        usd: 50n * USD,
      }),
    );
    await store(db, spans);
    const e = engine(db, [
      { id: 'spike', type: 'spike', scope: 'developer', factor: 3, minUsd: '2', weeks: 4 },
    ]);
    const r = await checkAlerts(e, new Date(T0 + 8 * DAY + 10.75 * HOUR));
    // one past week (day 1): team payments per-developer median = ($1 + $3) / 2 = $2; 3 × $2 = $6 < $7.
    // dan's team has no history at all: no baseline, no alert.
    expect(r.notices.map((x) => [x.entity, x.baseline, x.baseline_source, x.figure])).toEqual([
      ['cleo', '2000000000', 'team', '7000000000'],
    ]);
  });

  it('a failing webhook is retried with backoff, each attempt recorded, then succeeds', async () => {
    const db = 'hm_alerts_retry';
    const D = Date.UTC(2026, 10, 20);
    await store(db, [llm(D + HOUR, { session: 's', developer: 'eve', usd: 12n * USD })]);
    const delays: number[] = [];
    hook.failNext(2, 503);
    const seen = hook.received.length;
    const e = engine(
      db,
      [{ id: 'eve-budget', type: 'budget', scope: 'developer', period: 'day', limitUsd: '10' }],
      {
        delivery: {
          sleep: (ms) => {
            delays.push(ms);
            return Promise.resolve();
          },
          random: () => 0.5,
          policy: { baseDelayMs: 1000, maxDelayMs: 30_000, maxAttempts: 5 },
        },
      },
    );
    const r = await checkAlerts(e, new Date(D + 2 * HOUR));
    expect(r.deliveries).toEqual([
      { notice_id: r.notices[0]?.notice_id, status: 'delivered', attempts: 3 },
    ]);
    // full jitter at 0.5: 0.5 × 1000, 0.5 × 2000
    expect(delays).toEqual([500, 1000]);
    const got = hook.received.slice(seen);
    expect(got.map((x) => x.status)).toEqual([503, 503, 200]);
    expect(new Set(got.map((x) => x.body)).size).toBe(1);
    const rows = await client.query({
      query: `SELECT attempt, status, http_status FROM ${db}.alert_deliveries ORDER BY attempt`,
      format: 'JSONEachRow',
    });
    expect(await rows.json()).toEqual([
      { attempt: 1, status: 'retrying', http_status: 503 },
      { attempt: 2, status: 'retrying', http_status: 503 },
      { attempt: 3, status: 'delivered', http_status: 200 },
    ]);
    // Delivered: a later check sends nothing again.
    expect((await checkAlerts(e, new Date(D + 3 * HOUR))).deliveries).toEqual([]);
  });

  it('an undelivered notice (crash before delivery) is sent by the restarted evaluator', async () => {
    const db = 'hm_alerts_pending';
    const D = Date.UTC(2026, 10, 21);
    await store(db, [llm(D + HOUR, { session: 's', developer: 'fay', usd: 12n * USD })]);
    const rules = [
      { id: 'fay-budget', type: 'budget', scope: 'developer', period: 'day', limitUsd: '10' },
    ];
    const seen = hook.accepted().length;
    // The first evaluator records the alert but has no webhook (as if it died before sending).
    const first = await checkAlerts(
      engine(db, rules, { webhook: undefined }),
      new Date(D + 2 * HOUR),
    );
    expect(first.notices.map((x) => x.state)).toEqual(['firing']);
    expect(hook.accepted().length).toBe(seen);
    const second = await checkAlerts(engine(db, rules), new Date(D + 2 * HOUR + MIN));
    expect(second.notices).toEqual([]);
    expect(second.deliveries).toEqual([
      { notice_id: first.notices[0]?.notice_id, status: 'delivered', attempts: 1 },
    ]);
    expect(bodies(seen).map((b) => b.alert.notice_id)).toEqual([first.notices[0]?.notice_id]);
  });

  it('a budget crossing warns, then alerts, then resolves with the new day', async () => {
    const db = 'hm_alerts_budget';
    const logLines: string[] = [];
    const D = Date.UTC(2026, 10, 23);
    await store(db, [
      llm(D + 9 * HOUR, { session: 's1', developer: 'cara', usd: 5n * USD }),
      llm(D + 10 * HOUR, { session: 's2', developer: 'cara', usd: 4n * USD }),
      llm(D + 11 * HOUR, { session: 's2', developer: 'cara', usd: 2n * USD }),
    ]);
    const e = engine(
      db,
      [
        {
          id: 'dev-daily',
          type: 'budget',
          scope: 'developer',
          period: 'day',
          limitUsd: '10',
          warnAt: 0.8,
        },
      ],
      { logger: createLogger('info', (line) => void logLines.push(line)) },
    );
    const at = async (ms: number): Promise<string[][]> =>
      (await checkAlerts(e, new Date(ms))).notices.map((x) => [
        x.state,
        x.entity,
        x.figure,
        x.threshold,
      ]);
    expect(await at(D + 9.5 * HOUR)).toEqual([]); // $5 < $8
    expect(await at(D + 10.5 * HOUR)).toEqual([['warn', 'cara', '9000000000', '8000000000']]);
    expect(await at(D + 10.75 * HOUR)).toEqual([]);
    expect(await at(D + 11.5 * HOUR)).toEqual([['firing', 'cara', '11000000000', '10000000000']]);
    expect(await at(D + 12 * HOUR)).toEqual([]);
    expect(await at(D + DAY + 0.5 * HOUR)).toEqual([['resolved', 'cara', '0', '0']]);
    const states = (
      await alertsReport(client, { db, since: new Date(D), until: new Date(D + 2 * DAY) })
    )
      .map((r) => r.state)
      .reverse();
    expect(states).toEqual(['warn', 'firing', 'resolved']);
    // One structured log line per notice: firing at warn level, the others at info.
    const logged = logLines.map(
      (l) => JSON.parse(l) as { level: string; msg: string; alert: AlertNotice },
    );
    expect(logged.map((l) => [l.level, l.msg, l.alert.entity, l.alert.figure])).toEqual([
      ['info', 'alert warn', 'cara', '9000000000'],
      ['warn', 'alert firing', 'cara', '11000000000'],
      ['info', 'alert resolved', 'cara', '0'],
    ]);
  });

  it('a retry loop in a session raises one runaway alert', async () => {
    const db = 'hm_alerts_loop';
    const D = Date.UTC(2026, 10, 24, 9);
    const spans: PricedSpan[] = [];
    // 7 runs of the same failing command, an LLM call before each: 6 retry_loop findings.
    for (let i = 0; i < 7; i++) {
      spans.push(llm(D + i * 20_000, { session: 'loopy', developer: 'gus', usd: USD / 100n }));
      spans.push(
        pricedSpan({
          startTimeUnixNano: ns(D + i * 20_000 + 10_000),
          endTimeUnixNano: ns(D + i * 20_000 + 11_000),
          spanType: 'tool',
          operation: 'execute_tool',
          toolName: 'Bash',
          toolClass: 'exec',
          argsHash: 'c'.repeat(64),
          targetHash: 'd'.repeat(64),
          resultTokens: 200,
          isError: true,
          sessionId: 'loopy',
          developer: 'gus',
          team: 'payments',
          repo: 'acme/api',
        }),
      );
    }
    await store(db, spans);
    const book = loadPriceBook(undefined);
    const e = engine(
      db,
      [{ id: 'runaway', type: 'runaway', loopKinds: ['retry_loop'], maxOccurrences: 5 }],
      { beforeEvaluate: () => scanStaleSessions(client, db, book, 0).then(() => undefined) },
    );
    const now = new Date(D + 5 * MIN);
    const r = await checkAlerts(e, now);
    expect(r.notices).toHaveLength(1);
    expect(r.notices[0]).toMatchObject({
      state: 'firing',
      rule_type: 'runaway',
      entity_kind: 'session',
      entity: 'loopy',
      unit: 'occurrences',
      figure: '6',
      threshold: '5',
    });
    expect(r.notices[0]?.top_tools).toEqual([
      { tool_name: 'Bash', calls: 7, errors: 7, result_tokens: 1400 },
    ]);
    expect(r.notices[0]?.summary).toContain('6 retry_loop findings (longest run 7)');
    expect((await checkAlerts(e, new Date(D + 6 * MIN))).notices).toEqual([]);
  });

  it('a session spending faster than the limit raises a runaway alert; a slower one does not', async () => {
    const db = 'hm_alerts_rate';
    const T = Date.UTC(2026, 10, 27, 16);
    await store(db, [
      llm(T + 1 * MIN, { session: 'fast', developer: 'ivy', usd: 2n * USD }),
      llm(T + 2 * MIN, { session: 'fast', developer: 'ivy', usd: 2n * USD }),
      llm(T + 3 * MIN, { session: 'fast', developer: 'ivy', usd: 2n * USD }),
      llm(T + 2 * MIN, { session: 'slow', developer: 'jo', usd: 4n * USD }),
    ]);
    const e = engine(db, [{ id: 'rate', type: 'runaway', windowMinutes: 5, maxUsdPerMinute: '1' }]);
    const r = await checkAlerts(e, new Date(T + 4 * MIN));
    // fast: $6 over 5 min = $1.20/min > $1; slow: $4 / 5 = $0.80/min.
    expect(r.notices.map((x) => [x.entity, x.unit, x.figure, x.threshold, x.figure_usd])).toEqual([
      ['fast', 'nano_usd_per_minute', '1200000000', '1000000000', '$1.20'],
    ]);
    // 20 minutes later the session is quiet: resolved.
    expect((await checkAlerts(e, new Date(T + 24 * MIN))).notices.map((x) => x.state)).toEqual([
      'resolved',
    ]);
  });

  it("waste over a share of a repo's spend raises a waste_share alert", async () => {
    const db = 'hm_alerts_waste';
    const T = Date.UTC(2026, 10, 26, 14);
    const ctx = { sessionId: 'w-1', developer: 'ana', team: 'payments', repo: 'acme/api' };
    const at = (sec: number) => ({
      startTimeUnixNano: ns(T + sec * 1000),
      endTimeUnixNano: ns(T + sec * 1000 + 1500),
    });
    const call = (sec: number, input: number, cacheRead: number, output: number) =>
      pricedSpan({
        ...at(sec),
        ...ctx,
        spanType: 'llm',
        operation: 'chat',
        provider: 'anthropic',
        requestModel: 'claude-sonnet-4-5',
        inputTokens: input,
        cacheReadTokens: cacheRead,
        outputTokens: output,
        priceId: 'test',
        costNanos: 10_000_000n, // $0.01 a call, by hand
      });
    const read = (sec: number) =>
      pricedSpan({
        ...at(sec),
        ...ctx,
        spanType: 'tool',
        operation: 'execute_tool',
        toolName: 'Read',
        toolClass: 'read',
        argsHash: 'a'.repeat(64),
        targetHash: 'b'.repeat(64),
        resultTokens: 800,
      });
    // The session of waste.test.ts: one re-read, priced by the detect stage at Sonnet 4.5 list prices:
    // direct 800 × 3,000 + 100 × 15,000 = 3,900,000 nano-USD, carried 800 × 300 = 240,000: 4,140,000.
    await store(db, [
      call(0, 1000, 0, 200),
      read(1),
      call(2, 2000, 1000, 100),
      read(3),
      call(4, 3000, 2000, 50),
      call(5, 3500, 3000, 20),
    ]);
    const book = loadPriceBook(undefined);
    const e = engine(
      db,
      [
        { id: 'waste-10', type: 'waste_share', scope: 'repo', maxShare: 0.1, minWasteUsd: '0.001' },
        { id: 'waste-20', type: 'waste_share', scope: 'repo', maxShare: 0.2, minWasteUsd: '0.001' },
      ],
      { beforeEvaluate: () => scanStaleSessions(client, db, book, 0).then(() => undefined) },
    );
    const r = await checkAlerts(e, new Date(T + 10 * MIN));
    // spend 4 × $0.01 = 40,000,000 nano-USD; 4,140,000 / 40,000,000 = 10.35 % = 1035 bp > 1000, < 2000.
    expect(r.notices.map((x) => [x.rule_id, x.entity, x.unit, x.figure, x.threshold])).toEqual([
      ['waste-10', 'acme/api', 'share_bp', '1035', '1000'],
    ]);
    expect(r.notices[0]?.summary).toBe(
      'repo acme/api: 10.35% of spend was waste over the last 24 h ($0.0041 of $0.0400), above 10%',
    );
    expect(r.notices[0]?.top_tools).toEqual([
      { tool_name: 'Read', calls: 2, errors: 0, result_tokens: 1600 },
    ]);
  });

  it('an unpriced model raises one alert, not one per call', async () => {
    const db = 'hm_alerts_unpriced';
    const D = Date.UTC(2026, 10, 25, 8);
    const unpriced = (i: number): PricedSpan =>
      pricedSpan({
        startTimeUnixNano: ns(D + i * MIN),
        endTimeUnixNano: ns(D + i * MIN + 1000),
        spanType: 'llm',
        operation: 'chat',
        provider: 'acme',
        requestModel: 'acme-coder-70b',
        responseModel: 'acme-coder-70b',
        sessionId: `u${i % 2}`,
        developer: 'hal',
        inputTokens: 500,
        outputTokens: 50,
        costNanos: null,
        unpriced: true,
      });
    await store(db, [0, 1, 2, 3, 4].map(unpriced));
    const e = engine(db, [{ id: 'unpriced', type: 'unpriced', lookbackHours: 24 }]);
    const all: AlertNotice[] = [];
    for (const m of [3, 10, 30, 90])
      all.push(...(await checkAlerts(e, new Date(D + m * MIN))).notices);
    expect(all.map((x) => [x.state, x.entity, x.figure])).toEqual([
      // first check at 08:03:00.000 counts the calls started at 08:00, 08:01, 08:02 and 08:03
      ['firing', 'acme/acme-coder-70b', '4'],
    ]);
    expect(all[0]?.command).toContain('harness-meter report unpriced');
    // 24 h after the last call nothing is unpriced in the window: resolved.
    expect((await checkAlerts(e, new Date(D + 25 * HOUR))).notices.map((x) => x.state)).toEqual([
      'resolved',
    ]);
  });
});

describe('alert queries read the rollups over bounded windows', () => {
  it('spend over a window with whole hours (hourly rollup) equals the per-minute sum, edges included', async () => {
    const db = 'hm_alerts_hourly';
    const T0 = Date.UTC(2026, 10, 3);
    const spans: PricedSpan[] = [];
    // Every 7 minutes for 30 hours: ana and bob alternate, $0.01 … $0.50 (distinct amounts).
    for (let i = 0; i * 7 * MIN < 30 * HOUR; i++)
      spans.push(
        llm(T0 + i * 7 * MIN + 13_000, {
          session: `s${i % 5}`,
          developer: i % 2 === 0 ? 'ana' : 'bob',
          team: i % 3 === 0 ? 'infra' : 'payments',
          usd: (USD / 100n) * BigInt((i % 50) + 1),
        }),
      );
    await store(db, spans);
    // Windows that start and end inside hours, span whole hours, or sit inside one hour.
    const windows = [
      [T0 + 17 * MIN, T0 + 26 * HOUR + 41 * MIN],
      [T0, T0 + 24 * HOUR],
      [T0 + 3 * HOUR + 5 * MIN, T0 + 3 * HOUR + 55 * MIN],
      [T0 + 59 * MIN, T0 + 2 * HOUR + MIN],
    ] as const;
    for (const [s, u] of windows)
      for (const scope of ['developer', 'team', 'session'] as const) {
        const since = new Date(s);
        const until = new Date(u);
        const got = await spendBy(client, db, { scope, since, until });
        const rs = await client.query({
          query: `SELECT multiIf({scope:String} = 'developer', developer, {scope:String} = 'team', team, session_id) AS key,
                         toString(sum(cost_nanos)) AS cost, sum(input_tokens + output_tokens) AS tokens, sum(llm_calls) AS calls
                  FROM {db:Identifier}.usage_by_minute
                  WHERE minute >= {since:DateTime64(3, 'UTC')} AND minute < {until:DateTime64(3, 'UTC')}
                  GROUP BY key ORDER BY key`,
          query_params: { db, scope, since: s / 1000, until: u / 1000 },
          format: 'JSONEachRow',
        });
        const want = await rs.json<{ key: string; cost: string; tokens: string; calls: string }>();
        expect(want.length).toBeGreaterThan(0);
        expect(
          got.map((r) => [r.key, r.cost_nanos.toString(), r.tokens, r.llm_calls]),
          `${scope} ${since.toISOString()}..${until.toISOString()}`,
        ).toEqual(want.map((r) => [r.key, r.cost, Number(r.tokens), Number(r.calls)]));
      }
  });
});
