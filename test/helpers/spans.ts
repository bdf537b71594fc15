import type { PricedSpan } from '../../pipeline/src/model.js';

let counter = 0;
const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/** A priced span with every field set to a neutral value, overridable. */
export function pricedSpan(overrides: Partial<PricedSpan> = {}): PricedSpan {
  counter++;
  const start =
    overrides.startTimeUnixNano ?? BigInt(Date.UTC(2026, 10, 20, 10, 0, 0)) * 1_000_000n;
  return {
    traceId: hex(counter, 32),
    spanId: hex(counter, 16),
    parentSpanId: '',
    name: 'span',
    kind: 1,
    startTimeUnixNano: start,
    endTimeUnixNano: start + 1_000_000n,
    statusCode: 0,
    statusMessage: '',
    serviceName: 'test-harness',
    scopeName: 'test',
    resourceAttributes: {},
    spanAttributes: {},
    spanType: 'other',
    operation: '',
    provider: '',
    requestModel: '',
    responseModel: '',
    sessionId: '',
    developer: '',
    team: '',
    repo: '',
    branch: '',
    commit: '',
    pr: 0,
    intent: '',
    source: 'sdk',
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    cacheWrite5mTokens: 0,
    cacheWrite1hTokens: 0,
    reasoningTokens: 0,
    reportedCostNanos: null,
    toolName: '',
    toolCallId: '',
    toolClass: '',
    argsHash: '',
    targetHash: '',
    resultBytes: 0,
    resultTokens: 0,
    isError: false,
    priceId: '',
    costNanos: null,
    inputCostNanos: null,
    outputCostNanos: null,
    cacheReadCostNanos: null,
    cacheWriteCostNanos: null,
    unpriced: false,
    ...overrides,
  };
}
