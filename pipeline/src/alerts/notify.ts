import { createHmac } from 'node:crypto';
import type { AlertState, TopSessionRow, TopToolRow } from '@harness-meter/queries';
import { usd, type AlertUnit } from './evaluate.js';

/** The alert as delivered: the webhook body's `alert`, the log line, the alerts table's payload. */
export interface AlertNotice {
  notice_id: string;
  alert_id: string;
  state: AlertState;
  rule_id: string;
  rule_type: string;
  entity_kind: string;
  entity: string;
  /** start of the window the alert first fired in (UTC, 'YYYY-MM-DD hh:mm:ss') */
  window_start: string;
  /** evaluation time, ISO */
  at: string;
  /** what the figure covers, ISO; absent on resolved notices */
  since?: string;
  until?: string;
  unit: AlertUnit | '';
  /** integer figures as decimal strings (nano-USD for money: see unit) */
  figure: string;
  threshold: string;
  baseline: string | null;
  baseline_source?: 'entity' | 'team';
  /** the same in dollars when the unit is money */
  figure_usd?: string;
  threshold_usd?: string;
  baseline_usd?: string;
  summary: string;
  top_sessions: TopSessionRow[];
  top_tools: TopToolRow[];
  /** a command that shows the detail */
  command: string;
}

/** The webhook body: Slack-compatible `text`, and the structured alert. */
export interface WebhookBody {
  text: string;
  alert: AlertNotice;
}

const ICON: Record<AlertState, string> = {
  firing: ':rotating_light:',
  warn: ':warning:',
  resolved: ':white_check_mark:',
};

/** Slack-compatible text (mrkdwn) of a notice. */
export function noticeText(n: AlertNotice): string {
  const lines = [`${ICON[n.state]} *[${n.state}] ${n.rule_id}* (${n.rule_type}): ${n.summary}`];
  if (n.top_sessions.length > 0)
    lines.push(
      `Top sessions: ${n.top_sessions.map((s) => `${s.session_id} (${usd(BigInt(s.cost_nanos))}, ${s.llm_calls} LLM calls)`).join(', ')}`,
    );
  if (n.top_tools.length > 0)
    lines.push(
      `Top tools: ${n.top_tools.map((t) => `${t.tool_name} (${t.calls} calls${t.errors > 0 ? `, ${t.errors} failed` : ''})`).join(', ')}`,
    );
  if (n.command) lines.push(`Detail: \`${n.command}\``);
  return lines.join('\n');
}

/** `sha256=<hex>`: HMAC-SHA256 of the exact body bytes with the shared secret. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  timeoutMs: number;
}
export const WEBHOOK_RETRY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  timeoutMs: 10_000,
};

/** Capped exponential backoff with full jitter: a random delay up to min(max, base × 2^(attempt-1)). */
export function backoffMs(attempt: number, p: RetryPolicy, random: () => number): number {
  return Math.floor(random() * Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (attempt - 1)));
}

export interface WebhookTarget {
  url: string;
  secret: string | undefined;
}

export interface DeliveryAttempt {
  attempt: number;
  status: 'delivered' | 'retrying' | 'failed';
  http_status: number;
  error: string;
  at: number;
}

export interface DeliveryDeps {
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  policy?: Partial<RetryPolicy>;
  /** Stops between attempts (shutdown); an attempt in progress is cut short. */
  signal?: AbortSignal;
  /** Called after each attempt (the runner records it before the next one). */
  onAttempt?: (a: DeliveryAttempt) => Promise<void>;
}

const sleepReal = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `sleep(ms)`, ended early when `signal` aborts (the retry loop then stops). */
function abortableSleep(
  sleep: (ms: number) => Promise<void>,
  ms: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (!signal) return sleep(ms);
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    sleep(ms).then(done, done);
  });
}

/**
 * POSTs one notice, retrying network errors, 429 and 5xx with backoff; other 4xx fail at once (the
 * receiver refuses it: a retry will not help). Resolves to the attempts made.
 */
export async function deliverWebhook(
  target: WebhookTarget,
  body: string,
  noticeId: string,
  deps: DeliveryDeps = {},
): Promise<DeliveryAttempt[]> {
  const policy = { ...WEBHOOK_RETRY, ...deps.policy };
  const doFetch = deps.fetch ?? fetch;
  const sleep = deps.sleep ?? sleepReal;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'harness-meter-alerts',
    'x-harnessmeter-notice': noticeId,
  };
  if (target.secret !== undefined)
    headers['x-harnessmeter-signature'] = signBody(target.secret, body);
  const attempts: DeliveryAttempt[] = [];
  for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
    if (deps.signal?.aborted) break; // not recorded: the notice stays pending and is resent later
    let status = 0;
    let error = '';
    try {
      const res = await doFetch(target.url, {
        method: 'POST',
        headers,
        body,
        signal: deps.signal
          ? AbortSignal.any([deps.signal, AbortSignal.timeout(policy.timeoutMs)])
          : AbortSignal.timeout(policy.timeoutMs),
      });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) error = `HTTP ${res.status}`;
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    const ok = status >= 200 && status < 300;
    const retriable = !ok && (status === 0 || status === 429 || status >= 500);
    const last = attempt === policy.maxAttempts;
    const a: DeliveryAttempt = {
      attempt,
      status: ok ? 'delivered' : retriable && !last ? 'retrying' : 'failed',
      http_status: status,
      error,
      at: Date.now(),
    };
    if (deps.signal?.aborted) break; // cut short by shutdown: left pending, not counted as failed
    attempts.push(a);
    await deps.onAttempt?.(a);
    if (a.status !== 'retrying') break;
    await abortableSleep(
      sleep,
      backoffMs(attempt, policy, deps.random ?? Math.random),
      deps.signal,
    );
  }
  return attempts;
}
