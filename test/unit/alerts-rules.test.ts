import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { AlertStateRow } from '@harness-meter/queries';
import {
  AlertRulesError,
  DEFAULT_RULES_JSON,
  alertId,
  backoffMs,
  decideTransitions,
  loadRules,
  median,
  noticeText,
  parseRules,
  signBody,
  usd,
  WEBHOOK_RETRY,
  type AlertCondition,
  type AlertNotice,
} from '../../pipeline/src/alerts/index.js';

import { spikeRequests } from '../../pipeline/src/demo/spike.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/alerts.json', import.meta.url));

describe('alert rules file', () => {
  it('parses every rule type with defaults, money as exact nano-USD', () => {
    const rules = parseRules({
      rules: [
        { id: 'b', type: 'budget', scope: 'team', period: 'month', limitUsd: '1234.5' },
        { id: 's', type: 'spike', scope: 'repo', minUsd: 7 },
        { id: 'r', type: 'runaway', maxUsdPerMinute: '0.25' },
        { id: 'w', type: 'waste_share', scope: 'team', maxShare: 0.4 },
        { id: 'u', type: 'unpriced', cooldownMinutes: 5 },
      ],
    });
    expect(rules).toEqual([
      {
        id: 'b',
        type: 'budget',
        scope: 'team',
        entity: undefined,
        period: 'month',
        limitNanos: 1_234_500_000_000n,
        warnAt: 0.8,
        cooldownMs: 3_600_000,
      },
      {
        id: 's',
        type: 'spike',
        scope: 'repo',
        factor: 3,
        minNanos: 7_000_000_000n,
        weeks: 4,
        windowMinutes: 60,
        cooldownMs: 3_600_000,
      },
      {
        id: 'r',
        type: 'runaway',
        windowMinutes: 5,
        maxCostPerMinuteNanos: 250_000_000n,
        maxTokensPerMinute: undefined,
        loopKinds: ['retry_loop'],
        maxOccurrences: undefined,
        lookbackHours: 24,
        cooldownMs: 3_600_000,
      },
      {
        id: 'w',
        type: 'waste_share',
        scope: 'team',
        maxShare: 0.4,
        windowHours: 24,
        minWasteNanos: 1_000_000_000n,
        cooldownMs: 3_600_000,
      },
      { id: 'u', type: 'unpriced', lookbackHours: 24, cooldownMs: 300_000 },
    ]);
  });

  it('the default rules and examples/alerts.json are valid', () => {
    expect(loadRules(undefined).map((r) => r.id)).toEqual(
      DEFAULT_RULES_JSON.rules.map((r) => r.id),
    );
    expect(loadRules(EXAMPLE).length).toBeGreaterThan(4);
    expect(JSON.parse(readFileSync(EXAMPLE, 'utf8'))).toHaveProperty('rules');
  });

  it.each([
    [{}, 'expected an object with a "rules" list'],
    [{ rules: [{ id: 'x', type: 'budgets' }] }, 'rules[0].type is "budgets": use one of "budget"'],
    [
      { rules: [{ id: 'x', type: 'budget', scope: 'team', period: 'day', limitUsd: '-3' }] },
      'rules[0].limitUsd is "-3": expected a positive dollar amount',
    ],
    [
      { rules: [{ id: 'x', type: 'budget', scope: 'org', period: 'day', limitUsd: '3' }] },
      'rules[0].scope is "org": use one of "developer", "team", "repo"',
    ],
    [
      {
        rules: [
          { id: 'x', type: 'budget', scope: 'team', period: 'day', limitUsd: '3', warnAt: 1 },
        ],
      },
      'rules[0].warnAt is 1: expected a number strictly between 0 and 1',
    ],
    [
      { rules: [{ id: 'x', type: 'spike', scope: 'team', factr: 3 }] },
      'rules[0].factr is not a field of a spike rule',
    ],
    [{ rules: [{ id: 'x', type: 'runaway' }] }, 'rules[0].maxUsdPerMinute is missing'],
    [
      {
        rules: [
          { id: 'x', type: 'unpriced' },
          { id: 'x', type: 'unpriced' },
        ],
      },
      'rule id "x" is used twice',
    ],
  ])('rejects %j with a clear error', (doc, message) => {
    expect(() => parseRules(doc, 'alerts.json')).toThrow(AlertRulesError);
    expect(() => parseRules(doc, 'alerts.json')).toThrow(message);
  });

  it('names the rule type example in field errors', () => {
    expect(() =>
      parseRules({ rules: [{ id: 'x', type: 'waste_share', scope: 'repo', maxShare: 2 }] }),
    ).toThrow(/Example: \{"id": "repo-waste", "type": "waste_share"/);
  });
});

const cond = (o: Partial<AlertCondition>): AlertCondition => ({
  ruleId: 'r',
  ruleType: 'budget',
  entityKind: 'developer',
  entity: 'ana',
  severity: 'firing',
  windowStart: new Date('2026-11-10T00:00:00Z'),
  windowed: true,
  since: new Date('2026-11-10T00:00:00Z'),
  until: new Date('2026-11-10T10:00:00Z'),
  unit: 'nano_usd',
  figure: 1n,
  threshold: 1n,
  baseline: null,
  summary: '',
  command: '',
  ...o,
});
const state = (o: Partial<AlertStateRow>): AlertStateRow => ({
  rule_id: 'r',
  entity: 'ana',
  alert_id: 'a1',
  state: 'firing',
  window_start: '2026-11-10 00:00:00',
  at: '2026-11-10 09:00:00.000',
  entity_kind: 'developer',
  ...o,
});
const NOW = new Date('2026-11-10T10:00:00Z');
const HOUR = (): number => 3_600_000;
const brief = (ts: ReturnType<typeof decideTransitions>): string[][] =>
  ts.map((t) => [t.state, t.entity, t.windowStart]);

describe('alert transitions (dedupe, escalation, cooldown, resolve)', () => {
  it('opens a new alert keyed by rule, entity and window', () => {
    const t = decideTransitions([cond({ severity: 'warn' })], [], HOUR, NOW);
    expect(brief(t)).toEqual([['warn', 'ana', '2026-11-10 00:00:00']]);
    expect(t[0]?.alertId).toBe(alertId('r', 'ana', '2026-11-10 00:00:00'));
  });
  it('an open alert whose condition holds stays quiet; a warn escalates once', () => {
    expect(decideTransitions([cond({})], [state({})], HOUR, NOW)).toEqual([]);
    expect(brief(decideTransitions([cond({})], [state({ state: 'warn' })], HOUR, NOW))).toEqual([
      ['firing', 'ana', '2026-11-10 00:00:00'],
    ]);
    expect(decideTransitions([cond({ severity: 'warn' })], [state({})], HOUR, NOW)).toEqual([]);
  });
  it('a continuing non-windowed condition keeps its alert across hours', () => {
    const c = cond({ windowed: false, windowStart: new Date('2026-11-10T11:00:00Z') });
    expect(decideTransitions([c], [state({})], HOUR, NOW)).toEqual([]);
  });
  it('a budget in a new window resolves the old alert and opens a new one', () => {
    const c = cond({ windowStart: new Date('2026-11-11T00:00:00Z') });
    expect(brief(decideTransitions([c], [state({})], HOUR, NOW))).toEqual([
      ['resolved', 'ana', '2026-11-10 00:00:00'],
      ['firing', 'ana', '2026-11-11 00:00:00'],
    ]);
  });
  it('resolves open alerts whose condition cleared, once', () => {
    expect(
      brief(
        decideTransitions([], [state({}), state({ entity: 'bo', state: 'resolved' })], HOUR, NOW),
      ),
    ).toEqual([['resolved', 'ana', '2026-11-10 00:00:00']]);
  });
  it('stays quiet during the cooldown after a resolve, then fires again', () => {
    const resolved = state({ state: 'resolved', at: '2026-11-10 09:30:00.000' });
    expect(decideTransitions([cond({})], [resolved], HOUR, NOW)).toEqual([]);
    const later = new Date('2026-11-10T10:30:00Z');
    expect(brief(decideTransitions([cond({})], [resolved], HOUR, later))).toEqual([
      ['firing', 'ana', '2026-11-10 00:00:00'],
    ]);
  });
});

describe('alert delivery helpers', () => {
  it('signs the exact body with HMAC-SHA256 (RFC 4231 test case 2)', () => {
    expect(signBody('Jefe', 'what do ya want for nothing?')).toBe(
      'sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });
  it('backs off exponentially, capped, with full jitter', () => {
    const p = { ...WEBHOOK_RETRY, baseDelayMs: 1000, maxDelayMs: 5000 };
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(a, p, () => 0.999999))).toEqual([
      999, 1999, 3999, 4999, 4999,
    ]);
    expect(backoffMs(3, p, () => 0)).toBe(0);
  });
  it('median and dollars', () => {
    expect(median([5n, 1n, 3n])).toBe(3n);
    expect(median([4n, 1n, 3n, 10n])).toBe(3n);
    expect(median([])).toBe(0n);
    expect(usd(11_000_000_000n)).toBe('$11.00');
    expect(usd(12_345_678n)).toBe('$0.0123');
  });
  it('writes Slack-compatible text with the figure, the sessions and the command', () => {
    const n = {
      state: 'firing',
      rule_id: 'dev-spike',
      rule_type: 'spike',
      summary: 'developer ana spent $11.00',
      top_sessions: [
        {
          session_id: 's1',
          developer: 'ana',
          cost_nanos: '10000000000',
          cost_usd: 10,
          llm_calls: 2,
          tool_calls: 0,
          tokens: 0,
        },
      ],
      top_tools: [{ tool_name: 'Bash', calls: 3, errors: 3, result_tokens: 9 }],
      command: 'harness-meter report cost --by session',
    } as unknown as AlertNotice;
    expect(noticeText(n)).toBe(
      ':rotating_light: *[firing] dev-spike* (spike): developer ana spent $11.00\n' +
        'Top sessions: s1 ($10.00, 2 LLM calls)\n' +
        'Top tools: Bash (3 calls, 3 failed)\n' +
        'Detail: `harness-meter report cost --by session`',
    );
  });
});

describe('demo --spike', () => {
  it('sends 4 weeks of history at this hour, then a burst in the last 4 minutes', () => {
    const now = Date.UTC(2026, 10, 29, 9, 30);
    const reqs = spikeRequests(now);
    expect(reqs.map((r) => r.spans)).toEqual([8, 12]);
    type Req = {
      resourceSpans: { scopeSpans: { spans: { startTimeUnixNano: string }[] }[] }[];
    };
    const starts = reqs.map((r) =>
      (JSON.parse(r.body) as Req).resourceSpans[0]?.scopeSpans[0]?.spans.map((s) =>
        Number(BigInt(s.startTimeUnixNano) / 1_000_000n),
      ),
    );
    const week = 7 * 24 * 3_600_000;
    expect(starts[0]?.[0]).toBe(now - week - 30 * 60_000);
    expect(starts[0]?.[7]).toBe(now - 4 * week - 29 * 60_000);
    expect(starts[1]?.[0]).toBe(now - 4 * 60_000);
    expect(starts[1]?.[11]).toBe(now - 4 * 60_000 + 11 * 15_000);
  });
});
