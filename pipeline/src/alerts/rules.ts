import { readFileSync } from 'node:fs';
import { usdToNanos } from '../decode/index.js';
import { ConfigError } from '../errors.js';

/** Who a spend rule watches. */
export const ALERT_SCOPES = ['developer', 'team', 'repo'] as const;
export type AlertScope = (typeof ALERT_SCOPES)[number];

interface RuleBase {
  /** Unique, stable: part of every alert's dedupe key. */
  id: string;
  /** After an alert of this rule and entity resolves, the same rule and entity stay quiet this long. */
  cooldownMs: number;
}

/** Spend of each developer/team/repo (or one of them) per day or month over a limit. */
export interface BudgetRule extends RuleBase {
  type: 'budget';
  scope: AlertScope;
  /** Only this entity; undefined: every entity of the scope. */
  entity: string | undefined;
  period: 'day' | 'month';
  limitNanos: bigint;
  /** Warn at this fraction of the limit (0 < warnAt < 1), e.g. 0.8. */
  warnAt: number;
}

/** Spend of the trailing hour above factor × the same hour in past weeks (median) and above minNanos. */
export interface SpikeRule extends RuleBase {
  type: 'spike';
  scope: AlertScope;
  factor: number;
  minNanos: bigint;
  /** Past weeks the baseline looks at (same hour of the same weekday). */
  weeks: number;
  windowMinutes: number;
}

/** A session spending or burning tokens too fast, or looping (findings of the detect stage). */
export interface RunawayRule extends RuleBase {
  type: 'runaway';
  windowMinutes: number;
  maxCostPerMinuteNanos: bigint | undefined;
  maxTokensPerMinute: number | undefined;
  /** Finding kinds counted as a loop, e.g. retry_loop, re_read. */
  loopKinds: string[];
  /** A session with more findings of one loop kind than this (in the last lookbackHours) is runaway. */
  maxOccurrences: number | undefined;
  lookbackHours: number;
}

/** Wasted dollars over a share of spend, per repo or team, in the trailing window. */
export interface WasteShareRule extends RuleBase {
  type: 'waste_share';
  scope: 'repo' | 'team';
  maxShare: number;
  windowHours: number;
  minWasteNanos: bigint;
}

/** LLM calls of a model with no price (spend that cannot be counted) in the trailing window. */
export interface UnpricedRule extends RuleBase {
  type: 'unpriced';
  lookbackHours: number;
}

export type AlertRule = BudgetRule | SpikeRule | RunawayRule | WasteShareRule | UnpricedRule;
export type AlertRuleType = AlertRule['type'];
export const ALERT_RULE_TYPES: readonly AlertRuleType[] = [
  'budget',
  'spike',
  'runaway',
  'waste_share',
  'unpriced',
];

/** The rules file is malformed; the message names the file, the field and an example. */
export class AlertRulesError extends ConfigError {
  constructor(message: string) {
    super(message);
    this.name = 'AlertRulesError';
  }
}

const EXAMPLE: Record<AlertRuleType, string> = {
  budget:
    '{"id": "team-daily", "type": "budget", "scope": "team", "period": "day", "limitUsd": "200", "warnAt": 0.8}',
  spike:
    '{"id": "dev-spike", "type": "spike", "scope": "developer", "factor": 3, "minUsd": "5", "weeks": 4}',
  runaway:
    '{"id": "runaway", "type": "runaway", "maxUsdPerMinute": "1", "maxTokensPerMinute": 400000, "loopKinds": ["retry_loop"], "maxOccurrences": 5}',
  waste_share:
    '{"id": "repo-waste", "type": "waste_share", "scope": "repo", "maxShare": 0.3, "windowHours": 24, "minWasteUsd": "1"}',
  unpriced: '{"id": "unpriced", "type": "unpriced"}',
};

/** The rules in force when no file is given (README, "Alerts"). */
export const DEFAULT_RULES_JSON = {
  rules: [
    {
      id: 'developer-daily-budget',
      type: 'budget',
      scope: 'developer',
      period: 'day',
      limitUsd: '100',
      warnAt: 0.8,
    },
    {
      id: 'team-monthly-budget',
      type: 'budget',
      scope: 'team',
      period: 'month',
      limitUsd: '5000',
      warnAt: 0.8,
    },
    { id: 'developer-spike', type: 'spike', scope: 'developer', factor: 3, minUsd: '5', weeks: 4 },
    { id: 'repo-spike', type: 'spike', scope: 'repo', factor: 3, minUsd: '10', weeks: 4 },
    {
      id: 'runaway-session',
      type: 'runaway',
      windowMinutes: 5,
      maxUsdPerMinute: '1',
      maxTokensPerMinute: 500000,
      loopKinds: ['retry_loop'],
      maxOccurrences: 5,
    },
    {
      id: 'repo-waste-share',
      type: 'waste_share',
      scope: 'repo',
      maxShare: 0.3,
      windowHours: 24,
      minWasteUsd: '1',
    },
    { id: 'unpriced-model', type: 'unpriced', lookbackHours: 24 },
  ],
} as const;

type Json = Record<string, unknown>;

class Fields {
  constructor(
    private readonly where: string,
    private readonly o: Json,
    private readonly type: AlertRuleType | undefined,
  ) {}
  fail(field: string, what: string): never {
    const ex = this.type ? ` Example: ${EXAMPLE[this.type]}` : '';
    throw new AlertRulesError(`${this.where}.${field} ${what}.${ex}`);
  }
  has(field: string): boolean {
    return this.o[field] !== undefined;
  }
  str(field: string, fallback?: string): string {
    const v = this.o[field];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'string' || v.trim() === '') this.fail(field, 'must be a non-empty string');
    return v.trim();
  }
  oneOf<T extends string>(field: string, allowed: readonly T[], fallback?: T): T {
    const v = this.o[field] ?? fallback;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v))
      this.fail(
        field,
        `is ${JSON.stringify(v)}: use one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`,
      );
    return v as T;
  }
  num(field: string, min: number, max: number, fallback?: number, exclusive = false): number {
    const v = this.o[field] ?? fallback;
    const ok =
      typeof v === 'number' &&
      Number.isFinite(v) &&
      (exclusive ? v > min && v < max : v >= min && v <= max);
    if (!ok)
      this.fail(
        field,
        `is ${JSON.stringify(v)}: expected a number ${exclusive ? 'strictly ' : ''}between ${min} and ${max}`,
      );
    return v;
  }
  int(field: string, min: number, max: number, fallback?: number): number {
    const n = this.num(field, min, max, fallback);
    if (!Number.isInteger(n)) this.fail(field, `is ${n}: expected a whole number`);
    return n;
  }
  usd(field: string, fallback?: string): bigint {
    const v = this.o[field] ?? fallback;
    const nanos = typeof v === 'string' || typeof v === 'number' ? usdToNanos(String(v)) : null;
    if (nanos === null || nanos <= 0n)
      this.fail(field, `is ${JSON.stringify(v)}: expected a positive dollar amount, e.g. "25.50"`);
    return nanos;
  }
  optionalUsd(field: string): bigint | undefined {
    return this.has(field) ? this.usd(field) : undefined;
  }
  strings(field: string, fallback: string[]): string[] {
    const v = this.o[field] ?? fallback;
    if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string' || x === ''))
      this.fail(field, 'must be a non-empty list of strings');
    return v as string[];
  }
  only(allowed: readonly string[]): void {
    for (const k of Object.keys(this.o))
      if (!allowed.includes(k))
        this.fail(k, `is not a field of a ${this.type ?? ''} rule (known: ${allowed.join(', ')})`);
  }
}

const COMMON = ['id', 'type', 'cooldownMinutes'];

function parseRule(raw: unknown, where: string): AlertRule {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new AlertRulesError(`${where} must be an object, e.g. ${EXAMPLE.budget}.`);
  const o = raw as Json;
  const type = new Fields(where, o, undefined).oneOf('type', ALERT_RULE_TYPES);
  const f = new Fields(where, o, type);
  const base = {
    id: f.str('id'),
    cooldownMs: f.int('cooldownMinutes', 0, 43_200, 60) * 60_000,
  };
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(base.id))
    f.fail('id', `is ${JSON.stringify(base.id)}: letters, digits, . _ - only`);
  switch (type) {
    case 'budget':
      f.only([...COMMON, 'scope', 'entity', 'period', 'limitUsd', 'warnAt']);
      return {
        ...base,
        type,
        scope: f.oneOf('scope', ALERT_SCOPES),
        entity: f.has('entity') ? f.str('entity') : undefined,
        period: f.oneOf('period', ['day', 'month'] as const),
        limitNanos: f.usd('limitUsd'),
        warnAt: f.num('warnAt', 0, 1, 0.8, true),
      };
    case 'spike':
      f.only([...COMMON, 'scope', 'factor', 'minUsd', 'weeks', 'windowMinutes']);
      return {
        ...base,
        type,
        scope: f.oneOf('scope', ALERT_SCOPES),
        factor: f.num('factor', 1, 1000, 3, true),
        minNanos: f.usd('minUsd', '5'),
        weeks: f.int('weeks', 1, 12, 4),
        windowMinutes: f.int('windowMinutes', 5, 360, 60),
      };
    case 'runaway': {
      f.only([
        ...COMMON,
        'windowMinutes',
        'maxUsdPerMinute',
        'maxTokensPerMinute',
        'loopKinds',
        'maxOccurrences',
        'lookbackHours',
      ]);
      const rule: RunawayRule = {
        ...base,
        type,
        windowMinutes: f.int('windowMinutes', 1, 1440, 5),
        maxCostPerMinuteNanos: f.optionalUsd('maxUsdPerMinute'),
        maxTokensPerMinute: f.has('maxTokensPerMinute')
          ? f.int('maxTokensPerMinute', 1, 1e12)
          : undefined,
        loopKinds: f.strings('loopKinds', ['retry_loop']),
        maxOccurrences: f.has('maxOccurrences') ? f.int('maxOccurrences', 1, 1e6) : undefined,
        lookbackHours: f.int('lookbackHours', 1, 720, 24),
      };
      if (
        rule.maxCostPerMinuteNanos === undefined &&
        rule.maxTokensPerMinute === undefined &&
        rule.maxOccurrences === undefined
      )
        f.fail(
          'maxUsdPerMinute',
          'is missing: give maxUsdPerMinute, maxTokensPerMinute or maxOccurrences',
        );
      return rule;
    }
    case 'waste_share':
      f.only([...COMMON, 'scope', 'maxShare', 'windowHours', 'minWasteUsd']);
      return {
        ...base,
        type,
        scope: f.oneOf('scope', ['repo', 'team'] as const),
        maxShare: f.num('maxShare', 0, 1, undefined, true),
        windowHours: f.int('windowHours', 1, 720, 24),
        minWasteNanos: f.usd('minWasteUsd', '1'),
      };
    case 'unpriced':
      f.only([...COMMON, 'lookbackHours']);
      return { ...base, type, lookbackHours: f.int('lookbackHours', 1, 720, 24) };
  }
}

/**
 * Validates a rules document (`{"rules": [...]}`); `source` names it in errors.
 * @example parseRules({ rules: [{ id: 'b', type: 'budget', scope: 'team', period: 'day', limitUsd: '50' }] })
 */
export function parseRules(doc: unknown, source = 'alert rules'): AlertRule[] {
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as Json).rules))
    throw new AlertRulesError(
      `${source}: expected an object with a "rules" list, e.g. {"rules": [${EXAMPLE.budget}]}.`,
    );
  const rules = ((doc as Json).rules as unknown[]).map((r, i) =>
    parseRule(r, `${source}: rules[${i}]`),
  );
  const seen = new Set<string>();
  for (const r of rules) {
    if (seen.has(r.id))
      throw new AlertRulesError(
        `${source}: rule id ${JSON.stringify(r.id)} is used twice; ids must be unique (they key every alert).`,
      );
    seen.add(r.id);
  }
  return rules;
}

/** Reads and validates a rules file (JSON); without a path, the default rules. */
export function loadRules(path: string | undefined): AlertRule[] {
  if (path === undefined) return parseRules(DEFAULT_RULES_JSON, 'default alert rules');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AlertRulesError(
      `HM_ALERTS_FILE=${JSON.stringify(path)} cannot be read (${err instanceof Error ? err.message : String(err)}): give the path of a JSON rules file, e.g. examples/alerts.json.`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new AlertRulesError(
      `${path} is not valid JSON (${err instanceof Error ? err.message : String(err)}); see examples/alerts.json.`,
    );
  }
  return parseRules(doc, path);
}
