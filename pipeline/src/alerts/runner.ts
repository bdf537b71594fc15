import { createHash } from 'node:crypto';
import {
  alertStates,
  insertAlertDeliveries,
  insertAlertTransitions,
  pendingNotices,
  topSessions,
  topTools,
  type AlertTransitionRow,
  type ClickHouseClient,
} from '@harness-meter/queries';
import { silentLogger, type Logger } from '../logger.js';
import {
  decideTransitions,
  evaluateRules,
  usd,
  type AlertCondition,
  type Transition,
} from './evaluate.js';
import {
  deliverWebhook,
  noticeText,
  type AlertNotice,
  type DeliveryDeps,
  type WebhookBody,
  type WebhookTarget,
} from './notify.js';
import type { AlertRule } from './rules.js';

export interface AlertEngineOptions {
  client: ClickHouseClient;
  db: string;
  rules: readonly AlertRule[];
  logger?: Logger;
  /** Where notices are POSTed (HM_ALERT_WEBHOOK_URL); absent: log and table only. */
  webhook?: WebhookTarget | undefined;
  /** Test seams and retry policy of the webhook. */
  delivery?: DeliveryDeps;
  /** Runs before each evaluation (the pipeline scans pending sessions for loop findings). */
  beforeEvaluate?: () => Promise<void>;
  /** Undelivered notices recorded this recently are (re)sent, e.g. after a restart; default 1 h. */
  resendWithinMs?: number;
  /** Aborts a round: it stops before its next query, webhook attempt or insert (shutdown). */
  signal?: AbortSignal;
}

export interface AlertCheckResult {
  /** evaluation time, ISO */
  at: string;
  /** conditions that hold now (open alerts included) */
  holding: number;
  /** notices recorded by this check */
  notices: AlertNotice[];
  /** webhook deliveries finished by this check */
  deliveries: { notice_id: string; status: string; attempts: number }[];
}

const TOP = 3;
const MONEY = new Set(['nano_usd', 'nano_usd_per_minute']);

async function notice(
  o: AlertEngineOptions,
  t: Transition,
  now: Date,
  rules: Map<string, AlertRule>,
): Promise<AlertNotice> {
  const c: AlertCondition | undefined = t.condition;
  const base = {
    notice_id: createHash('sha256')
      .update(`${t.alertId}\u0000${t.state}\u0000${now.getTime()}`)
      .digest('hex')
      .slice(0, 24),
    alert_id: t.alertId,
    state: t.state,
    rule_id: t.ruleId,
    rule_type: c?.ruleType ?? rules.get(t.ruleId)?.type ?? '',
    entity: t.entity,
    window_start: t.windowStart,
    at: now.toISOString(),
  };
  if (c === undefined) {
    const kind = t.previous?.entity_kind ?? '';
    return {
      ...base,
      entity_kind: kind,
      unit: '',
      figure: '0',
      threshold: '0',
      baseline: null,
      summary: `${kind ? `${kind} ` : ''}${t.entity}: ${t.ruleId} no longer holds (alert opened in the window starting ${t.windowStart} UTC)`,
      top_sessions: [],
      top_tools: [],
      command: `harness-meter report alerts --since ${t.windowStart.replace(' ', 'T')}Z`,
    };
  }
  const window = { since: c.since, until: new Date(c.until.getTime() + 60_000) };
  const sessions = await topSessions(o.client, o.db, {
    scope: c.entityKind,
    entity: c.entity,
    limit: TOP,
    ...window,
  });
  const tools =
    c.entityKind === 'model'
      ? []
      : await topTools(o.client, o.db, {
          scope: c.entityKind,
          entity: c.entity,
          limit: TOP,
          ...window,
        });
  const money = MONEY.has(c.unit);
  return {
    ...base,
    entity_kind: c.entityKind,
    since: c.since.toISOString(),
    until: c.until.toISOString(),
    unit: c.unit,
    figure: c.figure.toString(),
    threshold: c.threshold.toString(),
    baseline: c.baseline === null ? null : c.baseline.toString(),
    ...(c.baselineSource === undefined ? {} : { baseline_source: c.baselineSource }),
    ...(money
      ? {
          figure_usd: usd(c.figure),
          threshold_usd: usd(c.threshold),
          ...(c.baseline === null ? {} : { baseline_usd: usd(c.baseline) }),
        }
      : {}),
    summary: c.summary,
    top_sessions: sessions,
    top_tools: tools,
    command: c.command,
  };
}

let lastRecordedAt = 0;
/** Strictly increasing ms, so two transitions of one alert never tie. */
const recordedAt = (): number => (lastRecordedAt = Math.max(Date.now(), lastRecordedAt + 1));

/** Sends every notice not yet delivered (recorded within resendWithinMs), recording each attempt. */
async function deliverPending(
  o: AlertEngineOptions,
  target: WebhookTarget,
): Promise<AlertCheckResult['deliveries']> {
  const log = o.logger ?? silentLogger;
  const pending = await pendingNotices(o.client, o.db, {
    channel: 'webhook',
    since: new Date(Date.now() - (o.resendWithinMs ?? 3_600_000)),
  });
  const done: AlertCheckResult['deliveries'] = [];
  for (const p of pending) {
    if (o.signal?.aborted) break; // the rest is sent after the restart (resendWithinMs)
    const alert = JSON.parse(p.payload) as AlertNotice;
    const body: WebhookBody = { text: noticeText(alert), alert };
    const attempts = await deliverWebhook(target, JSON.stringify(body), p.notice_id, {
      ...o.delivery,
      ...(o.signal ? { signal: o.signal } : {}),
      onAttempt: async (a) => {
        await insertAlertDeliveries(o.client, o.db, [
          {
            notice_id: p.notice_id,
            alert_id: p.alert_id,
            state: p.state,
            channel: 'webhook',
            ...a,
          },
        ]);
        if (a.status !== 'delivered')
          log.warn('alert webhook attempt failed', {
            notice_id: p.notice_id,
            attempt: a.attempt,
            status: a.status,
            http_status: a.http_status,
            error: a.error,
          });
      },
    });
    const last = attempts.at(-1);
    done.push({
      notice_id: p.notice_id,
      status: last?.status ?? 'failed',
      attempts: attempts.length,
    });
  }
  return done;
}

/**
 * One evaluation at `now`: evaluates every rule on the stored data, records the state changes in
 * the alerts table (read back first, so nothing is notified twice, even after a restart), logs them,
 * and delivers undelivered notices to the webhook.
 */
export async function checkAlerts(
  o: AlertEngineOptions,
  now: Date = new Date(),
): Promise<AlertCheckResult> {
  const log = o.logger ?? silentLogger;
  const signal = o.signal;
  await o.beforeEvaluate?.();
  signal?.throwIfAborted();
  const rules = new Map(o.rules.map((r) => [r.id, r]));
  const conditions = await evaluateRules(o.client, o.db, o.rules, now, signal);
  signal?.throwIfAborted();
  const states = await alertStates(o.client, o.db);
  const transitions = decideTransitions(
    conditions,
    states,
    (id) => rules.get(id)?.cooldownMs ?? 3_600_000,
    now,
  );
  const notices: AlertNotice[] = [];
  for (const t of transitions) {
    signal?.throwIfAborted();
    notices.push(await notice(o, t, now, rules));
  }
  signal?.throwIfAborted();
  const rows: AlertTransitionRow[] = notices.map((n) => ({
    notice_id: n.notice_id,
    alert_id: n.alert_id,
    rule_id: n.rule_id,
    rule_type: n.rule_type,
    entity_kind: n.entity_kind,
    entity: n.entity,
    window_start: n.window_start,
    state: n.state,
    at: now.getTime(),
    recorded_at: recordedAt(),
    unit: n.unit,
    figure: n.figure,
    threshold: n.threshold,
    baseline: n.baseline,
    message: n.summary,
    payload: JSON.stringify(n),
  }));
  await insertAlertTransitions(o.client, o.db, rows);
  for (const n of notices)
    log[n.state === 'firing' ? 'warn' : 'info'](`alert ${n.state}`, { alert: n });
  const deliveries = o.webhook ? await deliverPending(o, o.webhook) : [];
  return { at: now.toISOString(), holding: conditions.length, notices, deliveries };
}

export const ALERT_DEFAULTS = {
  /** Evaluation at least this often (conditions also clear as time passes). */
  intervalMs: 10_000,
  /**
   * At most one round per this many ms, however fast spans arrive: new spans mark the stage
   * dirty and the next round starts this long after the previous one started (coalesced), so the
   * evaluation cost does not grow with the ingest rate.
   */
  minIntervalMs: 5_000,
  /** How often the stage looks for newly stored spans (a cheap counter read, no query). */
  pollMs: 1000,
} as const;

export interface AlertStage {
  /** Evaluates now (or at `now`), after any round in progress. */
  check(now?: Date): Promise<AlertCheckResult>;
  /** The time of the last scheduled round, ms (undefined before the first); for metrics and tests. */
  lastRoundMs(): number | undefined;
  /** Scheduled rounds started so far. */
  rounds(): number;
  /** Stops scheduling, aborts the round in flight at its next query, and waits for it. */
  stop(): Promise<void>;
}

/** When the next scheduled round is due, given the last round's start and whether spans arrived. */
export function nextRoundDue(
  lastStart: number,
  dirty: boolean,
  o: { intervalMs: number; minIntervalMs: number },
): number {
  return lastStart + (dirty ? Math.min(o.minIntervalMs, o.intervalMs) : o.intervalMs);
}

/**
 * The alert evaluator inside the pipeline, on a schedule: new spans (the sink's counter, read every
 * pollMs) mark it dirty, and a round starts at most every minIntervalMs while dirty and at least every
 * intervalMs regardless. One round in flight at a time; triggers during a round coalesce into the
 * next. A failed round is logged and retried at the next due time. stop() aborts the round in flight
 * (it stops before its next query, webhook attempt or insert). State lives in ClickHouse (the alerts
 * table), so a restart resumes where it was.
 */
export function startAlertStage(
  o: AlertEngineOptions,
  opts: {
    intervalMs?: number;
    minIntervalMs?: number;
    pollMs?: number;
    changes?: () => number;
    /** Timed rounds run only while this says so (the leader lease of several processes). @default always */
    leading?: () => boolean;
  } = {},
): AlertStage {
  const log = o.logger ?? silentLogger;
  const schedule = {
    intervalMs: opts.intervalMs ?? ALERT_DEFAULTS.intervalMs,
    minIntervalMs: opts.minIntervalMs ?? ALERT_DEFAULTS.minIntervalMs,
  };
  const pollMs = Math.min(opts.pollMs ?? ALERT_DEFAULTS.pollMs, schedule.minIntervalMs);
  const abort = new AbortController();
  let running: Promise<unknown> = Promise.resolve();
  let inFlight = false;
  let lastChanges = opts.changes?.() ?? Number.NaN;
  let dirty = true; // the first round evaluates what is already stored
  let lastStart = 0;
  let lastMs: number | undefined;
  let started = 0;
  const check = (now?: Date): Promise<AlertCheckResult> => {
    const next = running.then(() => {
      abort.signal.throwIfAborted();
      return checkAlerts({ ...o, signal: abort.signal }, now ?? new Date());
    });
    running = next.catch(() => undefined);
    return next;
  };
  const timer = setInterval(() => {
    if (abort.signal.aborted || opts.leading?.() === false) return;
    const c = opts.changes?.() ?? Number.NaN;
    if (!Number.isNaN(c) && c !== lastChanges) {
      lastChanges = c;
      dirty = true;
    }
    if (inFlight || Date.now() < nextRoundDue(lastStart, dirty, schedule)) return;
    inFlight = true;
    dirty = false;
    lastStart = Date.now();
    started++;
    check()
      .then(
        () => {
          lastMs = Date.now() - lastStart;
        },
        (err: unknown) => {
          if (!abort.signal.aborted)
            log.warn('alert round failed; will retry', {
              error: err instanceof Error ? err.message : String(err),
            });
        },
      )
      .finally(() => {
        inFlight = false;
      });
  }, pollMs);
  timer.unref();
  return {
    check,
    lastRoundMs: () => lastMs,
    rounds: () => started,
    async stop() {
      clearInterval(timer);
      abort.abort(new Error('alert stage stopped'));
      await running;
    },
  };
}
