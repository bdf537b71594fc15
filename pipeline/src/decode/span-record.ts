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

/** Looks a key up in span attributes, then resource attributes. */
function lookup(
  span: Record<string, string>,
  resource: Record<string, string>,
  ...keys: string[]
): string {
  for (const k of keys) {
    const v = span[k];
    if (v !== undefined && v !== '') return v;
  }
  for (const k of keys) {
    const v = resource[k];
    if (v !== undefined && v !== '') return v;
  }
  return '';
}

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

/** A key's value in span attributes, then resource attributes; '' when neither has a non-empty one. */
function attr(sa: Record<string, string>, ra: Record<string, string>, key: string): string {
  const v = sa[key];
  if (v !== undefined && v !== '') return v;
  const r = ra[key];
  return r !== undefined && r !== '' ? r : '';
}

/** attr over two keys: both on the span first, then both on the resource. */
function attr2(
  sa: Record<string, string>,
  ra: Record<string, string>,
  a: string,
  b: string,
): string {
  const s1 = sa[a];
  if (s1 !== undefined && s1 !== '') return s1;
  const s2 = sa[b];
  if (s2 !== undefined && s2 !== '') return s2;
  const r1 = ra[a];
  if (r1 !== undefined && r1 !== '') return r1;
  const r2 = ra[b];
  return r2 !== undefined && r2 !== '' ? r2 : '';
}

/** A count attribute (attr) as a number, checked (checkedCount). */
function count(sa: Record<string, string>, ra: Record<string, string>, key: string): number {
  return checkedCount(attr(sa, ra, key), key);
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
 * Derives harness-meter's fields from a span's attributes (span first, then resource) per the
 * GenAI, VCS and general semantic conventions. Pure; reusable for records built from log events.
 * Throws SpanRejectedError when a count is not a non-negative integer within MAX_TOKEN_COUNT.
 */
export function toSpanRecord(raw: RawSpanParts, errors: string[] = []): SpanRecord {
  const sa = raw.spanAttributes;
  const ra = raw.resourceAttributes;
  // Module functions over (sa, ra) rather than closures: this runs for every span.
  const operation = attr(sa, ra, ATTR_GEN_AI_OPERATION_NAME);
  const requestModel = attr(sa, ra, ATTR_GEN_AI_REQUEST_MODEL);
  const responseModel = attr(sa, ra, ATTR_GEN_AI_RESPONSE_MODEL);
  const toolName = attr(sa, ra, ATTR_GEN_AI_TOOL_NAME);

  const inputText = attr(sa, ra, ATTR_GEN_AI_USAGE_INPUT_TOKENS);
  const inputTokens =
    inputText === ''
      ? count(sa, ra, ATTR_GEN_AI_USAGE_PROMPT_TOKENS)
      : checkedCount(inputText, ATTR_GEN_AI_USAGE_INPUT_TOKENS);
  const outputText = attr(sa, ra, ATTR_GEN_AI_USAGE_OUTPUT_TOKENS);
  const outputTokens =
    outputText === ''
      ? count(sa, ra, ATTR_GEN_AI_USAGE_COMPLETION_TOKENS)
      : checkedCount(outputText, ATTR_GEN_AI_USAGE_OUTPUT_TOKENS);
  const cacheReadTokens = count(sa, ra, ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS);
  const totalWriteText = attr(sa, ra, ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS);
  const write5mText = attr(sa, ra, ATTR_HM_USAGE_CACHE_CREATION_5M);
  const write1hText = attr(sa, ra, ATTR_HM_USAGE_CACHE_CREATION_1H);
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
    attr(sa, ra, ATTR_GEN_AI_USAGE_PROMPT_TOKENS) !== '' ||
    attr(sa, ra, ATTR_GEN_AI_USAGE_COMPLETION_TOKENS) !== '';

  let spanType: SpanType = 'other';
  if (
    GEN_AI_INFERENCE_OPERATIONS.includes(operation) ||
    (operation === '' && hasUsage && (requestModel || responseModel))
  )
    spanType = 'llm';
  else if (operation === GEN_AI_OPERATION.executeTool || toolName !== '') spanType = 'tool';
  else if (operation === GEN_AI_OPERATION.invokeAgent || operation === GEN_AI_OPERATION.createAgent)
    spanType = 'agent';

  const toolClassText = attr(sa, ra, ATTR_HM_TOOL_CLASS);
  const toolClass: ToolClass | '' =
    toolClassText === ''
      ? ''
      : (TOOL_CLASSES as readonly string[]).includes(toolClassText)
        ? (toolClassText as ToolClass)
        : 'other';
  const reportedText = attr(sa, ra, ATTR_HM_REPORTED_COST_USD);
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
    serviceName: ra[ATTR_SERVICE_NAME] ?? '',
    spanType,
    operation,
    provider: attr2(sa, ra, ATTR_GEN_AI_PROVIDER_NAME, ATTR_GEN_AI_SYSTEM),
    requestModel,
    responseModel,
    sessionId: attr2(sa, ra, ATTR_GEN_AI_CONVERSATION_ID, ATTR_SESSION_ID),
    developer: developerOf(sa, ra),
    team: attr(sa, ra, ATTR_HM_TEAM),
    repo: attr2(sa, ra, ATTR_VCS_REPOSITORY_URL_FULL, ATTR_VCS_REPOSITORY_NAME),
    branch: attr(sa, ra, ATTR_VCS_REF_HEAD_NAME),
    commit: attr(sa, ra, ATTR_VCS_REF_HEAD_REVISION),
    pr: prNumber(attr(sa, ra, ATTR_VCS_CHANGE_ID)),
    intent: attr(sa, ra, ATTR_HM_TASK_INTENT),
    source: attr(sa, ra, ATTR_HM_SOURCE) || 'otel',
    inputTokens,
    outputTokens,
    cacheReadTokens,
    cacheWriteTokens,
    cacheWrite5mTokens,
    cacheWrite1hTokens,
    reasoningTokens: count(sa, ra, ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS),
    reportedCostNanos,
    usageCheck: spanType === 'llm' ? usageCheck : '',
    toolName,
    toolCallId: attr(sa, ra, ATTR_GEN_AI_TOOL_CALL_ID),
    toolClass,
    argsHash: attr(sa, ra, ATTR_HM_TOOL_ARGS_HASH),
    targetHash: attr(sa, ra, ATTR_HM_TOOL_TARGET_HASH),
    resultBytes: count(sa, ra, ATTR_HM_TOOL_RESULT_BYTES),
    resultTokens: count(sa, ra, ATTR_HM_TOOL_RESULT_TOKENS),
    isError:
      raw.statusCode === 2 ||
      attr(sa, ra, ATTR_ERROR_TYPE) !== '' ||
      attr(sa, ra, ATTR_HM_TOOL_ERROR) === 'true',
  };
}

/** The developer: user.id, user.email, user.name, span attributes first (as lookup does). */
function developerOf(sa: Record<string, string>, ra: Record<string, string>): string {
  return lookup(sa, ra, ATTR_USER_ID, ATTR_USER_EMAIL, ATTR_USER_NAME);
}
