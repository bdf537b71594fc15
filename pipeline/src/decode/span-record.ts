/**
 * A span record derived from a span's parts and attributes (span first, then resource) per the
 * GenAI, VCS and general semantic conventions. Pure; shared by traces, agents' log events and
 * transcripts.
 */
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_SYSTEM,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_COMPLETION_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_PROMPT_TOKENS,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  ATTR_HM_REPORTED_COST_USD,
  ATTR_HM_SOURCE,
  ATTR_HM_TASK_INTENT,
  ATTR_HM_TEAM,
  ATTR_HM_TOOL_ARGS_HASH,
  ATTR_HM_TOOL_CLASS,
  ATTR_HM_TOOL_ERROR,
  ATTR_HM_TOOL_RESULT_BYTES,
  ATTR_HM_TOOL_RESULT_TOKENS,
  ATTR_HM_TOOL_TARGET_HASH,
  ATTR_HM_USAGE_CACHE_CREATION_1H,
  ATTR_HM_USAGE_CACHE_CREATION_5M,
  ATTR_SERVICE_NAME,
  ATTR_SESSION_ID,
  ATTR_USER_EMAIL,
  ATTR_USER_ID,
  ATTR_USER_NAME,
  ATTR_VCS_CHANGE_ID,
  ATTR_VCS_REF_HEAD_NAME,
  ATTR_VCS_REF_HEAD_REVISION,
  ATTR_VCS_REPOSITORY_NAME,
  ATTR_VCS_REPOSITORY_URL_FULL,
  GEN_AI_INFERENCE_OPERATIONS,
  GEN_AI_OPERATION,
} from '@harness-meter/instrumentation/semconv';
import type { SpanRecord, SpanType, ToolClass, UsageCheck } from '../model.js';
import { checkedCount } from './validate.js';

const TOOL_CLASSES: readonly ToolClass[] = ['read', 'write', 'search', 'exec', 'fetch', 'other'];

const DECIMAL_RE = /^\+?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,3}))?$/;
const MAX_NANOS = 9_223_372_036_854_775_807n; // Int64, what the store keeps

/**
 * Parses a non-negative decimal USD amount exactly into integer nano-USD, rounding half up past 9
 * decimals; exponent notation (how JS renders a small double, '1e-7') is accepted. null when the
 * text is not such an amount (negative, not a number, beyond Int64 nano-USD).
 * @example usdToNanos('0.0123456789') === 12345679n
 */
export function usdToNanos(text: string): bigint | null {
  const m = DECIMAL_RE.exec(text.trim());
  if (!m) return null;
  const whole = m[1] ?? '';
  const frac = m[2] ?? '';
  if (whole === '' && frac === '') return null;
  const digits = BigInt(whole + frac);
  const shift = 9 + Number(m[3] ?? '0') - frac.length;
  let nanos: bigint;
  if (shift >= 0) nanos = digits * 10n ** BigInt(shift);
  else {
    const unit = 10n ** BigInt(-shift);
    nanos = digits / unit;
    if ((digits % unit) * 2n >= unit) nanos += 1n;
  }
  return nanos > MAX_NANOS ? null : nanos;
}

const PR_DIGITS = /^\d{1,9}$/;

function prNumber(text: string): number {
  if (PR_DIGITS.test(text)) return Number(text); // the usual '42': no match array
  const m = /^#?(\d{1,9})$/.exec(text.trim());
  return m ? Number(m[1]) : 0;
}

export interface RawSpanParts {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  statusCode: number;
  statusMessage: string;
  scopeName: string;
  resourceAttributes: Record<string, string>;
  spanAttributes: Record<string, string>;
}

/**
 * The attribute keys derivation reads, each at a fixed index: a span's values of these keys (in
 * stored form, '' where absent) are all derivation needs from it, so the protobuf reader captures
 * them while reading instead of looking each key up again in the span's map.
 */
const DERIVED_KEYS = [
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_PROMPT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_COMPLETION_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_HM_USAGE_CACHE_CREATION_5M,
  ATTR_HM_USAGE_CACHE_CREATION_1H,
  ATTR_HM_TOOL_CLASS,
  ATTR_HM_REPORTED_COST_USD,
  ATTR_SERVICE_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_SYSTEM,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_SESSION_ID,
  ATTR_USER_ID,
  ATTR_USER_EMAIL,
  ATTR_USER_NAME,
  ATTR_HM_TEAM,
  ATTR_VCS_REPOSITORY_URL_FULL,
  ATTR_VCS_REPOSITORY_NAME,
  ATTR_VCS_REF_HEAD_NAME,
  ATTR_VCS_REF_HEAD_REVISION,
  ATTR_VCS_CHANGE_ID,
  ATTR_HM_TASK_INTENT,
  ATTR_HM_SOURCE,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_HM_TOOL_ARGS_HASH,
  ATTR_HM_TOOL_TARGET_HASH,
  ATTR_HM_TOOL_RESULT_BYTES,
  ATTR_HM_TOOL_RESULT_TOKENS,
  ATTR_ERROR_TYPE,
  ATTR_HM_TOOL_ERROR,
] as const;
const OPERATION = 0;
const REQUEST_MODEL = 1;
const RESPONSE_MODEL = 2;
const TOOL_NAME = 3;
const INPUT_TOKENS = 4;
const PROMPT_TOKENS = 5;
const OUTPUT_TOKENS = 6;
const COMPLETION_TOKENS = 7;
const CACHE_READ = 8;
const CACHE_WRITE = 9;
const CACHE_WRITE_5M = 10;
const CACHE_WRITE_1H = 11;
const TOOL_CLASS = 12;
const REPORTED_COST = 13;
const SERVICE_NAME = 14;
const PROVIDER = 15;
const SYSTEM = 16;
const CONVERSATION_ID = 17;
const SESSION_ID = 18;
const USER_ID = 19;
const USER_EMAIL = 20;
const USER_NAME = 21;
const TEAM = 22;
const REPO_URL = 23;
const REPO_NAME = 24;
const BRANCH = 25;
const COMMIT = 26;
const CHANGE_ID = 27;
const INTENT = 28;
const SOURCE = 29;
const REASONING = 30;
const TOOL_CALL_ID = 31;
const ARGS_HASH = 32;
const TARGET_HASH = 33;
const RESULT_BYTES = 34;
const RESULT_TOKENS = 35;
const ERROR_TYPE = 36;
const TOOL_ERROR = 37;

/** How many keys derivation reads: the length of a derived-values array. */
export const DERIVED_COUNT = DERIVED_KEYS.length;
const DERIVED_INDEX = new Map<string, number>(DERIVED_KEYS.map((k, i) => [k, i]));
if (DERIVED_INDEX.size !== DERIVED_COUNT) throw new Error('DERIVED_KEYS holds a key twice');

/** The index of `key` in a derived-values array, -1 when derivation does not read it. */
export function derivedIndex(key: string): number {
  return DERIVED_INDEX.get(key) ?? -1;
}

/** An attribute map's values of the keys derivation reads, in their order ('' where absent). */
export function derivedValues(
  attrs: Record<string, string>,
  out: string[] = new Array<string>(DERIVED_COUNT),
): string[] {
  for (let i = 0; i < DERIVED_COUNT; i++) out[i] = attrs[DERIVED_KEYS[i]!] ?? '';
  return out;
}

/** A key's value on the span, else on the resource ('' when neither has a non-empty one). */
function attr(sv: readonly string[], rv: readonly string[], i: number): string {
  const v = sv[i]!;
  return v !== '' ? v : rv[i]!;
}

/** attr over two keys: both on the span first, then both on the resource. */
function attr2(sv: readonly string[], rv: readonly string[], a: number, b: number): string {
  return sv[a] || sv[b] || rv[a] || rv[b]!;
}

/** A count attribute (attr) as a number, checked (checkedCount). */
function count(sv: readonly string[], rv: readonly string[], i: number): number {
  return checkedCount(attr(sv, rv, i), DERIVED_KEYS[i]!);
}

const spanScratch = new Array<string>(DERIVED_COUNT).fill('');
const resourceScratch = new Array<string>(DERIVED_COUNT).fill('');

/**
 * Derives harness-meter's fields from a span's attributes (span first, then resource) per the
 * GenAI, VCS and general semantic conventions. Pure; reusable for records built from log events.
 * Throws SpanRejectedError when a count is not a non-negative integer within MAX_TOKEN_COUNT.
 */
export function toSpanRecord(raw: RawSpanParts, errors: string[] = []): SpanRecord {
  return recordFromValues(
    raw,
    derivedValues(raw.spanAttributes, spanScratch),
    derivedValues(raw.resourceAttributes, resourceScratch),
    errors,
  );
}

/**
 * toSpanRecord with the attributes derivation reads given as derived-values arrays (derivedValues
 * of the span's and of the resource's map, or captured while reading the span): the same record.
 */
export function recordFromValues(
  raw: RawSpanParts,
  sv: readonly string[],
  rv: readonly string[],
  errors: string[] = [],
): SpanRecord {
  const sa = raw.spanAttributes;
  const ra = raw.resourceAttributes;
  const operation = attr(sv, rv, OPERATION);
  const requestModel = attr(sv, rv, REQUEST_MODEL);
  const responseModel = attr(sv, rv, RESPONSE_MODEL);
  const toolName = attr(sv, rv, TOOL_NAME);

  const inputText = attr(sv, rv, INPUT_TOKENS);
  const inputTokens =
    inputText === ''
      ? count(sv, rv, PROMPT_TOKENS)
      : checkedCount(inputText, ATTR_GEN_AI_USAGE_INPUT_TOKENS);
  const outputText = attr(sv, rv, OUTPUT_TOKENS);
  const outputTokens =
    outputText === ''
      ? count(sv, rv, COMPLETION_TOKENS)
      : checkedCount(outputText, ATTR_GEN_AI_USAGE_OUTPUT_TOKENS);
  const cacheReadTokens = count(sv, rv, CACHE_READ);
  const totalWriteText = attr(sv, rv, CACHE_WRITE);
  const write5mText = attr(sv, rv, CACHE_WRITE_5M);
  const write1hText = attr(sv, rv, CACHE_WRITE_1H);
  const hasTotalWrite = totalWriteText !== '';
  const hasSplit = write5mText !== '' || write1hText !== '';
  let cacheWriteTokens = checkedCount(
    totalWriteText,
    ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  );
  let cacheWrite5mTokens = checkedCount(write5mText, ATTR_HM_USAGE_CACHE_CREATION_5M);
  const cacheWrite1hTokens = checkedCount(write1hText, ATTR_HM_USAGE_CACHE_CREATION_1H);
  let usageCheck: UsageCheck = '';
  if (hasSplit && hasTotalWrite && cacheWrite5mTokens + cacheWrite1hTokens !== cacheWriteTokens)
    usageCheck = 'cache_split_mismatch';
  if (!hasSplit) cacheWrite5mTokens = cacheWriteTokens;
  else if (!hasTotalWrite) cacheWriteTokens = cacheWrite5mTokens + cacheWrite1hTokens;
  if (cacheReadTokens + cacheWriteTokens > inputTokens) usageCheck = 'cache_exceeds_input';
  // "Usage present": any of the input/output counts is set (even 0), as producers without an operation name send it.
  const hasUsage =
    inputText !== '' ||
    outputText !== '' ||
    attr(sv, rv, PROMPT_TOKENS) !== '' ||
    attr(sv, rv, COMPLETION_TOKENS) !== '';

  let spanType: SpanType = 'other';
  if (
    GEN_AI_INFERENCE_OPERATIONS.includes(operation) ||
    (operation === '' && hasUsage && (requestModel || responseModel))
  )
    spanType = 'llm';
  else if (operation === GEN_AI_OPERATION.executeTool || toolName !== '') spanType = 'tool';
  else if (operation === GEN_AI_OPERATION.invokeAgent || operation === GEN_AI_OPERATION.createAgent)
    spanType = 'agent';

  const toolClassText = attr(sv, rv, TOOL_CLASS);
  const toolClass: ToolClass | '' =
    toolClassText === ''
      ? ''
      : (TOOL_CLASSES as readonly string[]).includes(toolClassText)
        ? (toolClassText as ToolClass)
        : 'other';
  const reportedText = attr(sv, rv, REPORTED_COST);
  const reportedCostNanos = reportedText === '' ? null : usdToNanos(reportedText);
  if (reportedText !== '' && reportedCostNanos === null)
    errors.push(
      `${ATTR_HM_REPORTED_COST_USD}=${JSON.stringify(reportedText)} is not a non-negative decimal amount; ignored`,
    );

  // Every field written out (no spread of `raw`): one object shape for every record.
  return {
    traceId: raw.traceId,
    spanId: raw.spanId,
    parentSpanId: raw.parentSpanId,
    name: raw.name,
    kind: raw.kind,
    startTimeUnixNano: raw.startTimeUnixNano,
    endTimeUnixNano: raw.endTimeUnixNano,
    statusCode: raw.statusCode,
    statusMessage: raw.statusMessage,
    scopeName: raw.scopeName,
    resourceAttributes: ra,
    spanAttributes: sa,
    serviceName: rv[SERVICE_NAME]!,
    spanType,
    operation,
    provider: attr2(sv, rv, PROVIDER, SYSTEM),
    requestModel,
    responseModel,
    sessionId: attr2(sv, rv, CONVERSATION_ID, SESSION_ID),
    developer:
      sv[USER_ID] ||
      sv[USER_EMAIL] ||
      sv[USER_NAME] ||
      rv[USER_ID] ||
      rv[USER_EMAIL] ||
      rv[USER_NAME]!,
    team: attr(sv, rv, TEAM),
    repo: attr2(sv, rv, REPO_URL, REPO_NAME),
    branch: attr(sv, rv, BRANCH),
    commit: attr(sv, rv, COMMIT),
    pr: prNumber(attr(sv, rv, CHANGE_ID)),
    intent: attr(sv, rv, INTENT),
    source: attr(sv, rv, SOURCE) || 'otel',
    inputTokens,
    outputTokens,
    cacheReadTokens,
    cacheWriteTokens,
    cacheWrite5mTokens,
    cacheWrite1hTokens,
    reasoningTokens: count(sv, rv, REASONING),
    reportedCostNanos,
    usageCheck: spanType === 'llm' ? usageCheck : '',
    toolName,
    toolCallId: attr(sv, rv, TOOL_CALL_ID),
    toolClass,
    argsHash: attr(sv, rv, ARGS_HASH),
    targetHash: attr(sv, rv, TARGET_HASH),
    resultBytes: count(sv, rv, RESULT_BYTES),
    resultTokens: count(sv, rv, RESULT_TOKENS),
    isError:
      raw.statusCode === 2 ||
      attr(sv, rv, ERROR_TYPE) !== '' ||
      attr(sv, rv, TOOL_ERROR) === 'true',
  };
}
