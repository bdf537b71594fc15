/**
 * `harness-meter demo --spike`: a developer's usual spend at this hour over the past four weeks,
 * then a burst now, sent as OTLP/JSON with explicit timestamps (the SDK stamps the clock, and a
 * baseline needs the past). With the default rules this raises the `developer-spike` alert
 * ($10.80 in the last hour against a $0.90 median) and `runaway-session` ($2.16/min).
 */
import { PipelineError } from '../errors.js';

const WEEK_MS = 7 * 24 * 3_600_000;
const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

const str = (key: string, v: string): object => ({ key, value: { stringValue: v } });
const int = (key: string, n: number): object => ({ key, value: { intValue: String(n) } });

interface CallSpec {
  at: number;
  session: string;
  input: number;
  output: number;
}

function request(calls: CallSpec[], seed: number): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'harness-meter-demo' } },
            { key: 'harness_meter.team', value: { stringValue: 'payments' } },
          ],
        },
        scopeSpans: [
          {
            scope: { name: 'harness-meter-demo-spike' },
            spans: calls.map((c, i) => ({
              traceId: hex(seed, 16) + hex(i + 1, 16),
              spanId: hex(seed * 1000 + i + 1, 16),
              name: 'chat claude-sonnet-4-5',
              kind: 3,
              startTimeUnixNano: String(BigInt(c.at) * 1_000_000n),
              endTimeUnixNano: String(BigInt(c.at + 4000) * 1_000_000n),
              attributes: [
                str('gen_ai.operation.name', 'chat'),
                str('gen_ai.provider.name', 'anthropic'),
                str('gen_ai.request.model', 'claude-sonnet-4-5'),
                str('gen_ai.conversation.id', c.session),
                str('user.id', 'erin'),
                str('vcs.repository.url.full', 'https://github.com/acme/payments-api'),
                str('vcs.ref.head.name', 'feat/ledger-export'),
                str('vcs.change.id', '57'),
                int('gen_ai.usage.input_tokens', c.input),
                int('gen_ai.usage.output_tokens', c.output),
              ],
            })),
          },
        ],
      },
    ],
  });
}

/** The OTLP/JSON bodies of the spike demo at `now`: history first, then the burst. */
export function spikeRequests(now: number): { body: string; spans: number }[] {
  // History: each of the past 4 weeks, 30 min before this time, two calls of 100k in / 10k out
  // (claude-sonnet-4-5 at $3 / $15 per MTok: $0.45 each, $0.90 per week).
  const history: CallSpec[] = [];
  for (let k = 1; k <= 4; k++)
    for (let i = 0; i < 2; i++)
      history.push({
        at: now - k * WEEK_MS - 30 * 60_000 + i * 60_000,
        session: `demo-session-erin-w${k}`,
        input: 100_000,
        output: 10_000,
      });
  // Now: 12 calls of 200k in / 20k out in the last 4 minutes ($0.90 each, $10.80).
  const burst: CallSpec[] = Array.from({ length: 12 }, (_, i) => ({
    at: now - 4 * 60_000 + i * 15_000,
    session: 'demo-session-erin-spike',
    input: 200_000,
    output: 20_000,
  }));
  // Fixed ids: a second run sends the same spans, which the sink stores once (demo --reset clears them).
  const seed = 0x5b1ce;
  return [
    { body: request(history, seed), spans: history.length },
    { body: request(burst, seed + 1), spans: burst.length },
  ];
}

/** rejectedSpans of an OTLP/JSON export answer (0 when it has no partial success). */
function partialRejections(answer: string): number {
  try {
    const body = JSON.parse(answer) as { partialSuccess?: { rejectedSpans?: string | number } };
    return Number(body.partialSuccess?.rejectedSpans ?? 0);
  } catch {
    return 0;
  }
}

/** Sends the spike demo to an OTLP/HTTP traces endpoint; fails on any refusal. */
export async function injectSpike(
  endpoint: string,
  now = Date.now(),
  onSent: (spans: number, total: number) => void = () => undefined,
  headers: Record<string, string> = {},
): Promise<number> {
  let spans = 0;
  const requests = spikeRequests(now);
  const total = requests.reduce((n, r) => n + r.spans, 0);
  for (const { body, spans: n } of requests) {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    const answer = await res.text();
    if (!res.ok)
      throw new PipelineError(
        'SERVER_UNREACHABLE',
        `the server refused the spike demo: HTTP ${res.status} ${answer.slice(0, 300)}`,
      );
    const rejected = partialRejections(answer);
    if (rejected > 0)
      throw new PipelineError(
        'SERVER_UNREACHABLE',
        `the server rejected ${rejected} of the spike demo's spans: ${answer.slice(0, 300)}`,
      );
    spans += n;
    onSent(spans, total);
  }
  return spans;
}
