/** Builds small OTLP/JSON trace requests by hand, shaped as OTLP/HTTP JSON exporters send them. */
export interface SimpleSpan {
  traceId: string;
  spanId: string;
  name: string;
  startMs: number;
  attributes: Record<string, string | number | boolean>;
}

function anyValue(v: string | number | boolean): Record<string, unknown> {
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number')
    return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  return { stringValue: v };
}

export function otlpJson(
  spans: SimpleSpan[],
  resource: Record<string, string> = { 'service.name': 'test-harness' },
): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: {
          attributes: Object.entries(resource).map(([key, v]) => ({ key, value: anyValue(v) })),
        },
        scopeSpans: [
          {
            scope: { name: 'test' },
            spans: spans.map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              name: s.name,
              kind: 3,
              startTimeUnixNano: String(BigInt(s.startMs) * 1_000_000n),
              endTimeUnixNano: String(BigInt(s.startMs + 1500) * 1_000_000n),
              attributes: Object.entries(s.attributes).map(([key, v]) => ({
                key,
                value: anyValue(v),
              })),
              status: {},
            })),
          },
        ],
      },
    ],
  });
}

/** One Claude Sonnet 4.5 call with cache reads and writes, on PR 7 of acme/api. */
export function sonnetSpan(traceId: string, spanId: string, startMs: number): SimpleSpan {
  return {
    traceId,
    spanId,
    name: 'chat claude-sonnet-4-5',
    startMs,
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet-4-5',
      'gen_ai.response.model': 'claude-sonnet-4-5-20250929',
      'gen_ai.conversation.id': 'cli-session-1',
      'user.id': 'ana',
      'vcs.repository.url.full': 'https://github.com/acme/api',
      'vcs.change.id': '7',
      'gen_ai.usage.input_tokens': 1000,
      'gen_ai.usage.cache_read.input_tokens': 600,
      'gen_ai.usage.cache_creation.input_tokens': 100,
      'gen_ai.usage.output_tokens': 200,
    },
  };
}
/** The cost of sonnetSpan, by hand at list price ($/MTok: 3 in, 0.30 cache read, 3.75 5m write, 15 out):
 * fresh 300 × 3000 + read 600 × 300 + write 100 × 3750 + out 200 × 15000 nano-USD = 4,455,000 nano-USD. */
export const SONNET_SPAN_COST_NANOS = 4_455_000n;
