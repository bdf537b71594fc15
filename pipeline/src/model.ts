/**
 * The normalized records that flow between pipeline stages.
 *
 * One `SpanRecord` per OTLP span, whatever produced it. Token counts follow the GenAI semantic
 * conventions: `inputTokens` INCLUDES cache reads and cache writes, so the fresh (uncached)
 * input is `inputTokens - cacheReadTokens - cacheWriteTokens`.
 */

/** What a span is, for harness-meter. Spans that are neither LLM nor tool calls are kept as context. */
export type SpanType = 'llm' | 'tool' | 'agent' | 'other';

/** Tool classes used by redundancy detection. */
export type ToolClass = 'read' | 'write' | 'search' | 'exec' | 'fetch' | 'other';

export interface SpanRecord {
  /** 32 lowercase hex chars. */
  traceId: string;
  /** 16 lowercase hex chars. */
  spanId: string;
  /** 16 lowercase hex chars, or '' for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP span kind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  statusMessage: string;
  serviceName: string;
  scopeName: string;
  /** All resource attributes, values rendered as strings (arrays and maps as JSON). */
  resourceAttributes: Record<string, string>;
  /** All span attributes, values rendered as strings (arrays and maps as JSON). */
  spanAttributes: Record<string, string>;

  // --- derived, from span attributes first, then resource attributes ---
  spanType: SpanType;
  /** gen_ai.operation.name, or '' */
  operation: string;
  /** gen_ai.provider.name (or deprecated gen_ai.system), or '' */
  provider: string;
  requestModel: string;
  responseModel: string;
  /** gen_ai.conversation.id, else session.id, else '' */
  sessionId: string;
  /** user.id, else user.email, else user.name, else '' */
  developer: string;
  team: string;
  /** vcs.repository.url.full, else vcs.repository.name, else '' */
  repo: string;
  branch: string;
  commit: string;
  /** vcs.change.id as an integer; 0 when absent or not a number. */
  pr: number;
  intent: string;
  /** harness_meter.source, else 'otel'. */
  source: string;
  /** Id of the API key that sent the span ('' or absent = sent without a key). Never the secret. */
  keyId?: string;

  // --- usage (LLM spans; 0 elsewhere) ---
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  /** All cache writes; 5m + 1h when the producer split them. */
  cacheWriteTokens: number;
  cacheWrite5mTokens: number;
  cacheWrite1hTokens: number;
  reasoningTokens: number;
  /** Cost the producer reported, in nano-USD, or null. */
  reportedCostNanos: bigint | null;
  /**
   * Whether the usage parts add up (input includes cache reads and writes; the 5m + 1h split sums
   * to the writes). '' when they do or cannot be checked; absent in records from older versions.
   */
  usageCheck?: UsageCheck;

  // --- tool calls (tool spans; '' / 0 elsewhere) ---
  toolName: string;
  toolCallId: string;
  toolClass: ToolClass | '';
  argsHash: string;
  targetHash: string;
  resultBytes: number;
  resultTokens: number;
  /** true when status is ERROR, or error.type / harness_meter.tool.error says so. */
  isError: boolean;
}

/** A SpanRecord after pricing. Cost fields are null when the call could not be priced. */
export interface PricedSpan extends SpanRecord {
  /** Id of the price row that produced the cost ('' when unpriced or not an LLM call). */
  priceId: string;
  /** Total cost in integer nano-USD; null when unpriced. */
  costNanos: bigint | null;
  inputCostNanos: bigint | null;
  outputCostNanos: bigint | null;
  cacheReadCostNanos: bigint | null;
  cacheWriteCostNanos: bigint | null;
  /** true for an LLM call no price row matched. */
  unpriced: boolean;
}

/**
 * A usage whose parts do not add up, flagged at decode (its cost is still computed, as the
 * cost rules say): `cache_exceeds_input`: cache reads + writes > input tokens (a producer that sent
 * Anthropic's input, which excludes cache, as the conventions' input; fresh input counts 0);
 * `cache_split_mismatch`: 5-minute + 1-hour writes differ from the total writes given.
 */
export type UsageCheck = '' | 'cache_exceeds_input' | 'cache_split_mismatch';
