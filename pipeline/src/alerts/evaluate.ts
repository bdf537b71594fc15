import { createHash } from 'node:crypto';
import {
  costBy,
  firstUsageMinute,
  loopFindings,
  spendBy,
  spendInPastWeeks,
  unpricedCallsInRollup,
  unpricedModels,
  wasteCostBy,
  type AlertState,
  type AlertStateRow,
  type ClickHouseClient,
  type SpendScope,
} from '@harness-meter/queries';
import type {
  AlertRule,
  BudgetRule,
  RunawayRule,
  SpikeRule,
  UnpricedRule,
  WasteShareRule,
} from './rules.js';

export type AlertUnit =
  'nano_usd' | 'nano_usd_per_minute' | 'tokens_per_minute' | 'occurrences' | 'calls' | 'share_bp';

/** A rule that holds for one entity at `now`: what an alert says and why. */
export interface AlertCondition {
  ruleId: string;
  ruleType: AlertRule['type'];
  entityKind: SpendScope | 'model';
  entity: string;
  severity: 'warn' | 'firing';
  /** Start of the rule's window this figure belongs to (budget: the day or month; others: the hour). */
  windowStart: Date;
  /** Budgets: a new window is a new alert. Others: an open alert continues while the rule holds. */
  windowed: boolean;
  /** The span of time the figure covers: [since, until). */
  since: Date;
  until: Date;
  unit: AlertUnit;
  figure: bigint;
  threshold: bigint;
  /** Spikes: the baseline (median of past weeks), nano-USD. */
  baseline: bigint | null;
  /** Spikes: 'entity' (its own past weeks) or 'team' (new entity: its team's per-entity median). */
  baselineSource?: 'entity' | 'team';
  /** One line, for people. */
  summary: string;
  /** The command that shows the detail. */
  command: string;
}

const HOUR = 3_600_000;
const WEEK = 7 * 24 * HOUR;
const iso = (d: Date): string => d.toISOString().replace('.000Z', 'Z');

/** Dollars for messages: '$12.34' (4 decimals under a dollar, so small figures show). */
export function usd(nanos: bigint): string {
  const neg = nanos < 0n;
  const abs = neg ? -nanos : nanos;
  const decimals = abs < 1_000_000_000n ? 4 : 2;
  const unit = 10n ** BigInt(9 - decimals);
  const rounded = (abs + unit / 2n) / unit;
  const s = rounded.toString().padStart(decimals + 1, '0');
  return `${neg ? '-' : ''}$${s.slice(0, -decimals)}.${s.slice(-decimals)}`;
}

/** a × fraction for a fraction given as a JS number, exactly to 1e-6. */
function times(a: bigint, fraction: number): bigint {
  return (a * BigInt(Math.round(fraction * 1_000_000))) / 1_000_000n;
}

/** Median of integer amounts (the lower-middle average for an even count). */
export function median(values: readonly bigint[]): bigint {
  const s = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const n = s.length;
  if (n === 0) return 0n;
  const mid = Math.floor(n / 2);
  return n % 2 === 1 ? (s[mid] ?? 0n) : ((s[mid - 1] ?? 0n) + (s[mid] ?? 0n)) / 2n;
}

const startOfHour = (now: Date): Date => new Date(Math.floor(now.getTime() / HOUR) * HOUR);

function reportCommand(args: string, since: Date, until: Date): string {
  return `harness-meter report ${args} --since ${iso(since)} --until ${iso(new Date(until.getTime() + 60_000))}`;
}

async function budget(
  client: ClickHouseClient,
  db: string,
  r: BudgetRule,
  now: Date,
): Promise<AlertCondition[]> {
  const since =
    r.period === 'day'
      ? new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()))
      : new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const rows = await spendBy(client, db, { scope: r.scope, since, until: now });
  const warnAt = times(r.limitNanos, r.warnAt);
  const out: AlertCondition[] = [];
  for (const row of rows) {
    if (r.entity !== undefined && row.key !== r.entity) continue;
    const firing = row.cost_nanos >= r.limitNanos;
    if (!firing && row.cost_nanos < warnAt) continue;
    const pct = Number((row.cost_nanos * 1000n) / r.limitNanos) / 10;
    out.push({
      ruleId: r.id,
      ruleType: 'budget',
      entityKind: r.scope,
      entity: row.key,
      severity: firing ? 'firing' : 'warn',
      windowStart: since,
      windowed: true,
      since,
      until: now,
      unit: 'nano_usd',
      figure: row.cost_nanos,
      threshold: firing ? r.limitNanos : warnAt,
      baseline: null,
      summary: `${r.scope} ${row.key} spent ${usd(row.cost_nanos)} this ${r.period} (since ${iso(since)}): ${pct}% of the ${usd(r.limitNanos)} ${r.period === 'day' ? 'daily' : 'monthly'} budget${firing ? '' : ` (warning at ${Math.round(r.warnAt * 100)}%)`}`,
      command: reportCommand(`cost --by ${r.scope}`, since, now),
    });
  }
  return out;
}

async function spike(
  client: ClickHouseClient,
  db: string,
  r: SpikeRule,
  now: Date,
): Promise<AlertCondition[]> {
  const since = new Date(now.getTime() - r.windowMinutes * 60_000);
  const current = (await spendBy(client, db, { scope: r.scope, since, until: now })).filter(
    (row) => row.cost_nanos >= r.minNanos,
  );
  if (current.length === 0) return [];
  const first = await firstUsageMinute(client, db);
  if (first === undefined) return [];
  // Weeks of history: those whose window starts after the first stored minute (earlier ones are unknown, not zero).
  const weeks: number[] = [];
  for (let k = 1; k <= r.weeks; k++)
    if (since.getTime() - k * WEEK >= first.getTime()) weeks.push(k);
  if (weeks.length === 0) return [];
  const past = await spendInPastWeeks(client, db, {
    scope: r.scope,
    now,
    weeks: r.weeks,
    windowMinutes: r.windowMinutes,
  });
  const byKey = new Map<string, Map<number, bigint>>();
  const byTeam = new Map<string, Map<number, { cost: bigint; keys: Set<string> }>>();
  for (const p of past) {
    const m = byKey.get(p.key) ?? new Map<number, bigint>();
    m.set(p.k, (m.get(p.k) ?? 0n) + p.cost_nanos);
    byKey.set(p.key, m);
    const group = r.scope === 'team' ? '' : p.team;
    const t = byTeam.get(group) ?? new Map<number, { cost: bigint; keys: Set<string> }>();
    const w = t.get(p.k) ?? { cost: 0n, keys: new Set<string>() };
    w.cost += p.cost_nanos;
    w.keys.add(p.key);
    t.set(p.k, w);
    byTeam.set(group, t);
  }
  const out: AlertCondition[] = [];
  for (const row of current) {
    let baseline: bigint;
    let source: 'entity' | 'team';
    const own = byKey.get(row.key);
    if (own !== undefined) {
      baseline = median(weeks.map((k) => own.get(k) ?? 0n));
      source = 'entity';
    } else {
      const team = byTeam.get(r.scope === 'team' ? '' : row.team);
      if (team === undefined) continue; // no history at all: nothing to compare with
      baseline = median(
        weeks.map((k) => {
          const w = team.get(k);
          return w === undefined ? 0n : w.cost / BigInt(w.keys.size);
        }),
      );
      source = 'team';
    }
    const threshold = times(baseline, r.factor);
    if (row.cost_nanos <= threshold) continue;
    const ratio =
      baseline > 0n ? `${(Number((row.cost_nanos * 10n) / baseline) / 10).toFixed(1)}×` : 'n/a';
    out.push({
      ruleId: r.id,
      ruleType: 'spike',
      entityKind: r.scope,
      entity: row.key,
      severity: 'firing',
      windowStart: startOfHour(now),
      windowed: false,
      since,
      until: now,
      unit: 'nano_usd',
      figure: row.cost_nanos,
      threshold,
      baseline,
      baselineSource: source,
      summary:
        `${r.scope} ${row.key} spent ${usd(row.cost_nanos)} in the last ${r.windowMinutes} min, ${ratio} the baseline ${usd(baseline)} ` +
        `(median of the same hour over ${weeks.length} past week(s)${source === 'team' ? `, team ${row.team || '(none)'} per-${r.scope} median: no history of its own` : ''}; alert above ${r.factor}× and ${usd(r.minNanos)})`,
      command: reportCommand('cost --by session', since, now),
    });
  }
  return out;
}

async function runaway(
  client: ClickHouseClient,
  db: string,
  r: RunawayRule,
  now: Date,
): Promise<AlertCondition[]> {
  const out = new Map<string, AlertCondition>();
  const hour = startOfHour(now);
  if (r.maxCostPerMinuteNanos !== undefined || r.maxTokensPerMinute !== undefined) {
    const since = new Date(now.getTime() - r.windowMinutes * 60_000);
    for (const s of await spendBy(client, db, { scope: 'session', since, until: now })) {
      const costRate = s.cost_nanos / BigInt(r.windowMinutes);
      const tokenRate = Math.floor(s.tokens / r.windowMinutes);
      const base = {
        ruleId: r.id,
        ruleType: 'runaway' as const,
        entityKind: 'session' as const,
        entity: s.key,
        severity: 'firing' as const,
        windowStart: hour,
        windowed: false,
        since,
        until: now,
        baseline: null,
        command: reportCommand('cost --by session', since, now),
      };
      const who = `session ${s.key} (developer ${s.developer || '(none)'}, repo ${s.repo || '(none)'})`;
      if (r.maxCostPerMinuteNanos !== undefined && costRate > r.maxCostPerMinuteNanos)
        out.set(s.key, {
          ...base,
          unit: 'nano_usd_per_minute',
          figure: costRate,
          threshold: r.maxCostPerMinuteNanos,
          summary: `${who} is spending ${usd(costRate)}/min over the last ${r.windowMinutes} min (${usd(s.cost_nanos)}), above ${usd(r.maxCostPerMinuteNanos)}/min`,
        });
      else if (r.maxTokensPerMinute !== undefined && tokenRate > r.maxTokensPerMinute)
        out.set(s.key, {
          ...base,
          unit: 'tokens_per_minute',
          figure: BigInt(tokenRate),
          threshold: BigInt(r.maxTokensPerMinute),
          summary: `${who} is using ${tokenRate} tokens/min over the last ${r.windowMinutes} min, above ${r.maxTokensPerMinute}/min`,
        });
    }
  }
  if (r.maxOccurrences !== undefined) {
    const since = new Date(now.getTime() - r.lookbackHours * HOUR);
    for (const f of await loopFindings(client, db, { kinds: r.loopKinds, since, until: now })) {
      if (f.occurrences <= r.maxOccurrences || out.has(f.session_id)) continue;
      out.set(f.session_id, {
        ruleId: r.id,
        ruleType: 'runaway',
        entityKind: 'session',
        entity: f.session_id,
        severity: 'firing',
        windowStart: hour,
        windowed: false,
        since,
        until: now,
        unit: 'occurrences',
        figure: BigInt(f.occurrences),
        threshold: BigInt(r.maxOccurrences),
        baseline: null,
        summary: `session ${f.session_id} (developer ${f.developer || '(none)'}, repo ${f.repo || '(none)'}) is looping: ${f.occurrences} ${f.kind} findings (longest run ${f.max_loop_length}), above ${r.maxOccurrences}; wasted ${usd(f.cost_nanos)}`,
        command: reportCommand('waste --by tool', since, now),
      });
    }
  }
  return [...out.values()];
}

async function wasteShare(
  client: ClickHouseClient,
  db: string,
  r: WasteShareRule,
  now: Date,
): Promise<AlertCondition[]> {
  const since = new Date(now.getTime() - r.windowHours * HOUR);
  const window = { since, until: new Date(now.getTime() + 1) };
  // Waste first (findings are few): the spend query runs only when some waste is large enough.
  const wasted = (await wasteCostBy(client, db, { scope: r.scope, ...window })).filter(
    (w) => w.cost_nanos >= r.minWasteNanos,
  );
  if (wasted.length === 0) return [];
  const spend = new Map(
    (await costBy(client, { db, by: r.scope, ...window })).map((c) => [
      c.key,
      BigInt(c.cost_nanos),
    ]),
  );
  const out: AlertCondition[] = [];
  for (const w of wasted) {
    const waste = w.cost_nanos;
    const cost = spend.get(w.key) ?? 0n;
    if (w.key === '' || cost <= 0n || waste < r.minWasteNanos) continue;
    const shareBp = (waste * 10_000n) / cost;
    const maxBp = BigInt(Math.round(r.maxShare * 10_000));
    if (shareBp <= maxBp) continue;
    out.push({
      ruleId: r.id,
      ruleType: 'waste_share',
      entityKind: r.scope,
      entity: w.key,
      severity: 'firing',
      windowStart: startOfHour(now),
      windowed: false,
      since,
      until: now,
      unit: 'share_bp',
      figure: shareBp,
      threshold: maxBp,
      baseline: null,
      summary: `${r.scope} ${w.key}: ${Number(shareBp) / 100}% of spend was waste over the last ${r.windowHours} h (${usd(waste)} of ${usd(cost)}), above ${r.maxShare * 100}%`,
      command: reportCommand('waste --by session', since, now),
    });
  }
  return out;
}

async function unpriced(
  client: ClickHouseClient,
  db: string,
  r: UnpricedRule,
  now: Date,
): Promise<AlertCondition[]> {
  const since = new Date(now.getTime() - r.lookbackHours * HOUR);
  const until = new Date(now.getTime() + 1);
  // Spans are read (for the tokens of each unpriced model) only when the rollup counts any.
  if ((await unpricedCallsInRollup(client, db, { since, until })) === 0) return [];
  const rows = await unpricedModels(client, { db, since, until });
  return rows.map((m) => ({
    ruleId: r.id,
    ruleType: 'unpriced' as const,
    entityKind: 'model' as const,
    entity: `${m.provider}/${m.model}`,
    severity: 'firing' as const,
    windowStart: startOfHour(now),
    windowed: false,
    since,
    until: now,
    unit: 'calls' as const,
    figure: BigInt(m.calls),
    threshold: 0n,
    baseline: null,
    summary: `model ${m.model} (provider ${m.provider || '(none)'}) has no price: ${m.calls} call(s) since ${m.first_seen} are stored with unknown cost (${m.input_tokens} input, ${m.output_tokens} output tokens). Add it to HM_PRICES_FILE and run harness-meter reprice`,
    command: reportCommand('unpriced', since, now),
  }));
}

/** Every condition that holds at `now`, rule by rule, for the stored data. */
export async function evaluateRules(
  client: ClickHouseClient,
  db: string,
  rules: readonly AlertRule[],
  now: Date,
  signal?: AbortSignal,
): Promise<AlertCondition[]> {
  const out: AlertCondition[] = [];
  for (const r of rules) {
    signal?.throwIfAborted();
    switch (r.type) {
      case 'budget':
        out.push(...(await budget(client, db, r, now)));
        break;
      case 'spike':
        out.push(...(await spike(client, db, r, now)));
        break;
      case 'runaway':
        out.push(...(await runaway(client, db, r, now)));
        break;
      case 'waste_share':
        out.push(...(await wasteShare(client, db, r, now)));
        break;
      case 'unpriced':
        out.push(...(await unpriced(client, db, r, now)));
        break;
    }
  }
  return out;
}

/** 'YYYY-MM-DD hh:mm:ss' in UTC, the DateTime form of the alerts table. */
export const chSeconds = (d: Date): string => d.toISOString().slice(0, 19).replace('T', ' ');

/** The dedupe key of an alert: rule, entity and the start of the window it fired in. */
export function alertId(ruleId: string, entity: string, windowStart: string): string {
  return createHash('sha256')
    .update(`${ruleId}\u0000${entity}\u0000${windowStart}`)
    .digest('hex')
    .slice(0, 24);
}

/** A state change to record and notify. */
export interface Transition {
  alertId: string;
  ruleId: string;
  entity: string;
  windowStart: string;
  state: AlertState;
  /** The condition behind a warn/firing transition; undefined for resolved. */
  condition: AlertCondition | undefined;
  /** The alert's state before (undefined: new alert). */
  previous: AlertStateRow | undefined;
}

const stateKey = (rule: string, entity: string): string => `${rule}\u0000${entity}`;

/**
 * What changes, given the conditions that hold now and the latest stored state of every alert:
 * - a condition with no open alert opens one (warn or firing), unless the same rule and entity
 *   resolved less than the rule's cooldown ago;
 * - an open warn whose condition reaches firing escalates; an open alert whose condition still holds
 *   stays as it is (budgets: a new day or month is a new alert);
 * - an open alert whose condition no longer holds resolves.
 */
export function decideTransitions(
  conditions: readonly AlertCondition[],
  states: readonly AlertStateRow[],
  cooldownMs: (ruleId: string) => number,
  now: Date,
): Transition[] {
  const stored = new Map(states.map((s) => [stateKey(s.rule_id, s.entity), s]));
  const holding = new Set<string>();
  const out: Transition[] = [];
  for (const c of conditions) {
    const key = stateKey(c.ruleId, c.entity);
    if (holding.has(key)) continue;
    holding.add(key);
    const s = stored.get(key);
    const open = s !== undefined && s.state !== 'resolved';
    const windowStart = chSeconds(c.windowStart);
    if (open && !(c.windowed && s.window_start !== windowStart)) {
      if (s.state === 'warn' && c.severity === 'firing')
        out.push({
          alertId: s.alert_id,
          ruleId: c.ruleId,
          entity: c.entity,
          windowStart: s.window_start,
          state: 'firing',
          condition: c,
          previous: s,
        });
      continue;
    }
    if (open) {
      // a budget's new window: the old alert ends, the new one starts
      out.push({
        alertId: s.alert_id,
        ruleId: s.rule_id,
        entity: s.entity,
        windowStart: s.window_start,
        state: 'resolved',
        condition: undefined,
        previous: s,
      });
    } else if (
      s !== undefined &&
      now.getTime() - new Date(`${s.at.replace(' ', 'T')}Z`).getTime() < cooldownMs(c.ruleId)
    ) {
      continue; // cooling down
    }
    out.push({
      alertId: alertId(c.ruleId, c.entity, windowStart),
      ruleId: c.ruleId,
      entity: c.entity,
      windowStart,
      state: c.severity,
      condition: c,
      previous: open ? undefined : s,
    });
  }
  for (const s of states) {
    if (s.state === 'resolved' || holding.has(stateKey(s.rule_id, s.entity))) continue;
    out.push({
      alertId: s.alert_id,
      ruleId: s.rule_id,
      entity: s.entity,
      windowStart: s.window_start,
      state: 'resolved',
      condition: undefined,
      previous: s,
    });
  }
  return out;
}
