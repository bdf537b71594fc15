import type { SpanRecord } from '../model.js';

/** A Kafka message that can never be processed: it goes to the dead-letter topic. */
export class PoisonMessageError extends Error {
  readonly code = 'POISON_MESSAGE' as const;
  readonly retriable = false as const;
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PoisonMessageError';
  }
}

const BIGINT_FIELDS = ['startTimeUnixNano', 'endTimeUnixNano', 'reportedCostNanos'] as const;

/** A span record as a plain object with 64-bit values as decimal strings (no replacer: faster). */
function toJsonable(r: SpanRecord): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k in r) {
    const v = (r as unknown as Record<string, unknown>)[k];
    o[k] = typeof v === 'bigint' ? v.toString() : v;
  }
  return o;
}

/** A span record as JSON for the session-keyed topic (64-bit values as decimal strings). */
export function encodeSpanRecord(r: SpanRecord): Buffer {
  return Buffer.from(JSON.stringify(toJsonable(r)));
}

/**
 * Required span-record fields and the value a compact record leaves out: most of a span's fields
 * are empty or zero (a tool span has no usage, an LLM span no tool fields), and leaving them out
 * made a record a third smaller and its encoding about 3x faster (1,193 -> 771 bytes per span in
 * the bench's data). Optional fields (`keyId`, `usageCheck`) are not listed: they travel whenever
 * present, so a decoded record has exactly the fields the encoded one had.
 */
const RECORD_DEFAULTS = {
  parentSpanId: '',
  name: '',
  kind: 0,
  statusCode: 0,
  statusMessage: '',
  serviceName: '',
  scopeName: '',
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
  source: '',
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
} as const satisfies Partial<SpanRecord>;
const DEFAULTS_BY_KEY: Record<string, unknown> = RECORD_DEFAULTS;

/** A span record without the fields that hold their default (64-bit values as decimal strings). */
function toCompact(r: SpanRecord): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k in r) {
    const v = (r as unknown as Record<string, unknown>)[k];
    if (v === undefined || (k in DEFAULTS_BY_KEY && v === DEFAULTS_BY_KEY[k])) continue;
    o[k] = typeof v === 'bigint' ? v.toString() : v;
  }
  return o;
}

/** The earlier compact form, still read: `{"v":2,"spans":[records without their default fields]}`. */
const COMPACT_VERSION = 2;
/** The session-topic message format written now: `{"v":3,"spans":[each record's changes]}`. */
const DELTA_VERSION = 3;

/** The fields every record has, in the order a decoded record gets them (one object shape). */
const RECORD_FIELDS = [
  'traceId',
  'spanId',
  'parentSpanId',
  'name',
  'kind',
  'startTimeUnixNano',
  'endTimeUnixNano',
  'statusCode',
  'statusMessage',
  'scopeName',
  'resourceAttributes',
  'spanAttributes',
  'serviceName',
  'spanType',
  'operation',
  'provider',
  'requestModel',
  'responseModel',
  'sessionId',
  'developer',
  'team',
  'repo',
  'branch',
  'commit',
  'pr',
  'intent',
  'source',
  'inputTokens',
  'outputTokens',
  'cacheReadTokens',
  'cacheWriteTokens',
  'cacheWrite5mTokens',
  'cacheWrite1hTokens',
  'reasoningTokens',
  'reportedCostNanos',
  'toolName',
  'toolCallId',
  'toolClass',
  'argsHash',
  'targetHash',
  'resultBytes',
  'resultTokens',
  'isError',
] as const satisfies readonly (keyof SpanRecord)[];
/** Fields a record may lack; in a delta, `null` says the record lacks one its predecessor had. */
const OPTIONAL_FIELDS = ['keyId', 'usageCheck'] as const satisfies readonly (keyof SpanRecord)[];
const ATTRIBUTE_FIELDS = new Set<string>(['resourceAttributes', 'spanAttributes']);
/**
 * In a delta, how many records back its base is, when not the record just before (the last record
 * with the same span name, so interleaved LLM and tool calls each change little from their base).
 */
const BASE_FIELD = '@';
/** In a delta, `<attribute field>+`: the base's map with these values replaced (same keys, same order). */
const CHANGES_SUFFIX = '+';

const KNOWN_FIELDS = new Set<string>([
  ...RECORD_FIELDS,
  ...OPTIONAL_FIELDS,
  BASE_FIELD,
  ...[...ATTRIBUTE_FIELDS].map((f) => f + CHANGES_SUFFIX),
]);

/**
 * How attribute map `a` differs from `b`: `'same'`; the changed values, when both have the same keys
 * in the same order and fewer than half the values changed (a span's token counts, say); or
 * `undefined`: send `a` whole.
 */
function attributeChanges(a: unknown, b: unknown): 'same' | Record<string, unknown> | undefined {
  if (a === b) return 'same';
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return undefined;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x);
  const other = Object.keys(y);
  if (keys.length !== other.length) return undefined;
  let changes: Record<string, unknown> | undefined;
  let changed = 0;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (k !== other[i]) return undefined;
    if (x[k] === y[k]) continue;
    // An attribute named `__proto__` would set the prototype of `changes`: send the map whole.
    if (++changed * 2 >= keys.length || k === '__proto__') return undefined;
    (changes ??= {})[k] = x[k];
  }
  return changes ?? 'same';
}

/** An attribute map of a delta: sent whole, as changes to the base's, or the base's. */
function attributesOf(o: Record<string, unknown>, base: unknown, field: string): unknown {
  const whole = o[field];
  if (whole !== undefined && whole !== null) return whole;
  const changes = o[field + CHANGES_SUFFIX];
  if (changes === undefined) return base;
  if (typeof changes !== 'object' || changes === null || typeof base !== 'object' || base === null)
    throw new PoisonMessageError(
      `span record ${field}${CHANGES_SUFFIX}: expected changes to an earlier map`,
    );
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const k in changes) {
    if (!Object.hasOwn(out, k))
      throw new PoisonMessageError(
        `span record ${field}${CHANGES_SUFFIX}: ${JSON.stringify(k)} is not in the base's map`,
      );
    // defineProperty: an attribute named `__proto__` stays an attribute.
    Object.defineProperty(out, k, {
      value: (changes as Record<string, unknown>)[k],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** A 64-bit value as its decimal string (null stays null). */
const bigText = (v: bigint | null): string | null => (v === null ? null : v.toString());

/** Sets an attribute map of a delta: nothing when the base's, its changes, or the map whole. */
function attributeDelta(
  o: Record<string, unknown>,
  field: 'resourceAttributes' | 'spanAttributes',
  v: unknown,
  before: unknown,
): void {
  if (v === undefined) return;
  const changes = attributeChanges(v, before);
  if (changes === 'same') return;
  if (changes === undefined) o[field] = v;
  else o[field + CHANGES_SUFFIX] = changes;
}

/** How many enumerable fields `o` has (no array built). */
function fieldCount(o: object): number {
  let n = 0;
  for (const _k in o) n++;
  return n;
}

/**
 * What a record changes from its base, an earlier record of the message (the defaults for the first),
 * 64-bit values as decimal strings. Spans of a session share most fields (trace, session, model,
 * developer, repository, resource and often their attributes), so a span travels as its ids, times
 * and what differs: fewer bytes to encode, checksum, store, fetch and parse. Each field is compared
 * by name (a loop over the field names with keyed reads and a set lookup per field cost about twice
 * as much); the RECORD_FIELDS test in kafka-stage.test.ts keeps this list and RECORD_FIELDS equal.
 */
function toDelta(r: SpanRecord, prev: Record<string, unknown>): Record<string, unknown> {
  const p = prev as Partial<SpanRecord>;
  const o: Record<string, unknown> = {};
  if (r.traceId !== p.traceId && r.traceId !== undefined) o.traceId = r.traceId;
  if (r.spanId !== p.spanId && r.spanId !== undefined) o.spanId = r.spanId;
  if (r.parentSpanId !== p.parentSpanId && r.parentSpanId !== undefined)
    o.parentSpanId = r.parentSpanId;
  if (r.name !== p.name && r.name !== undefined) o.name = r.name;
  if (r.kind !== p.kind && r.kind !== undefined) o.kind = r.kind;
  if (r.startTimeUnixNano !== p.startTimeUnixNano && r.startTimeUnixNano !== undefined)
    o.startTimeUnixNano = bigText(r.startTimeUnixNano);
  if (r.endTimeUnixNano !== p.endTimeUnixNano && r.endTimeUnixNano !== undefined)
    o.endTimeUnixNano = bigText(r.endTimeUnixNano);
  if (r.statusCode !== p.statusCode && r.statusCode !== undefined) o.statusCode = r.statusCode;
  if (r.statusMessage !== p.statusMessage && r.statusMessage !== undefined)
    o.statusMessage = r.statusMessage;
  if (r.scopeName !== p.scopeName && r.scopeName !== undefined) o.scopeName = r.scopeName;
  attributeDelta(o, 'resourceAttributes', r.resourceAttributes, p.resourceAttributes);
  attributeDelta(o, 'spanAttributes', r.spanAttributes, p.spanAttributes);
  if (r.serviceName !== p.serviceName && r.serviceName !== undefined) o.serviceName = r.serviceName;
  if (r.spanType !== p.spanType && r.spanType !== undefined) o.spanType = r.spanType;
  if (r.operation !== p.operation && r.operation !== undefined) o.operation = r.operation;
  if (r.provider !== p.provider && r.provider !== undefined) o.provider = r.provider;
  if (r.requestModel !== p.requestModel && r.requestModel !== undefined)
    o.requestModel = r.requestModel;
  if (r.responseModel !== p.responseModel && r.responseModel !== undefined)
    o.responseModel = r.responseModel;
  if (r.sessionId !== p.sessionId && r.sessionId !== undefined) o.sessionId = r.sessionId;
  if (r.developer !== p.developer && r.developer !== undefined) o.developer = r.developer;
  if (r.team !== p.team && r.team !== undefined) o.team = r.team;
  if (r.repo !== p.repo && r.repo !== undefined) o.repo = r.repo;
  if (r.branch !== p.branch && r.branch !== undefined) o.branch = r.branch;
  if (r.commit !== p.commit && r.commit !== undefined) o.commit = r.commit;
  if (r.pr !== p.pr && r.pr !== undefined) o.pr = r.pr;
  if (r.intent !== p.intent && r.intent !== undefined) o.intent = r.intent;
  if (r.source !== p.source && r.source !== undefined) o.source = r.source;
  if (r.inputTokens !== p.inputTokens && r.inputTokens !== undefined) o.inputTokens = r.inputTokens;
  if (r.outputTokens !== p.outputTokens && r.outputTokens !== undefined)
    o.outputTokens = r.outputTokens;
  if (r.cacheReadTokens !== p.cacheReadTokens && r.cacheReadTokens !== undefined)
    o.cacheReadTokens = r.cacheReadTokens;
  if (r.cacheWriteTokens !== p.cacheWriteTokens && r.cacheWriteTokens !== undefined)
    o.cacheWriteTokens = r.cacheWriteTokens;
  if (r.cacheWrite5mTokens !== p.cacheWrite5mTokens && r.cacheWrite5mTokens !== undefined)
    o.cacheWrite5mTokens = r.cacheWrite5mTokens;
  if (r.cacheWrite1hTokens !== p.cacheWrite1hTokens && r.cacheWrite1hTokens !== undefined)
    o.cacheWrite1hTokens = r.cacheWrite1hTokens;
  if (r.reasoningTokens !== p.reasoningTokens && r.reasoningTokens !== undefined)
    o.reasoningTokens = r.reasoningTokens;
  if (r.reportedCostNanos !== p.reportedCostNanos && r.reportedCostNanos !== undefined)
    o.reportedCostNanos = bigText(r.reportedCostNanos);
  if (r.toolName !== p.toolName && r.toolName !== undefined) o.toolName = r.toolName;
  if (r.toolCallId !== p.toolCallId && r.toolCallId !== undefined) o.toolCallId = r.toolCallId;
  if (r.toolClass !== p.toolClass && r.toolClass !== undefined) o.toolClass = r.toolClass;
  if (r.argsHash !== p.argsHash && r.argsHash !== undefined) o.argsHash = r.argsHash;
  if (r.targetHash !== p.targetHash && r.targetHash !== undefined) o.targetHash = r.targetHash;
  if (r.resultBytes !== p.resultBytes && r.resultBytes !== undefined) o.resultBytes = r.resultBytes;
  if (r.resultTokens !== p.resultTokens && r.resultTokens !== undefined)
    o.resultTokens = r.resultTokens;
  if (r.isError !== p.isError && r.isError !== undefined) o.isError = r.isError;
  let known = RECORD_FIELDS.length;
  for (const k of OPTIONAL_FIELDS) {
    const v = r[k];
    if (v === undefined) {
      if (p[k] !== undefined) o[k] = null;
    } else {
      known++;
      if (v !== p[k]) o[k] = v;
    }
  }
  // A field this version does not know travels with every record (the reader keeps it as it is).
  if (fieldCount(r) !== known) {
    const rec = r as unknown as Record<string, unknown>;
    for (const k in rec) {
      const v = rec[k];
      if (v !== undefined && !KNOWN_FIELDS.has(k)) o[k] = typeof v === 'bigint' ? v.toString() : v;
    }
  }
  return o;
}

/**
 * Several span records of one session as one message: Kafka's cost is per message and per byte, so
 * a batch's spans travel grouped by session, in order, each as its changes from an earlier one.
 * The reader also takes the earlier forms (`{"v":2}` compact records, a JSON array of full records,
 * or one record); `version` 2 writes compact records, for enrich processes older than version 3.
 */
export function encodeSpanRecords(
  rs: readonly SpanRecord[],
  version: 2 | 3 = DELTA_VERSION,
): Buffer {
  if (version === COMPACT_VERSION)
    return Buffer.from(JSON.stringify({ v: COMPACT_VERSION, spans: rs.map(toCompact) }));
  const deltas: Record<string, unknown>[] = new Array<Record<string, unknown>>(rs.length);
  /** Per span name, the last record with it: an LLM call's base is the previous LLM call. */
  const lastByName = new Map<string, number>();
  for (let i = 0; i < rs.length; i++) {
    const r = rs[i]!;
    const base = lastByName.get(r.name) ?? i - 1;
    const d = toDelta(
      r,
      base < 0 ? DEFAULTS_BY_KEY : (rs[base] as unknown as Record<string, unknown>),
    );
    if (base >= 0 && base !== i - 1) d[BASE_FIELD] = i - base;
    deltas[i] = d;
    lastByName.set(r.name, i);
  }
  return Buffer.from(JSON.stringify({ v: DELTA_VERSION, spans: deltas }));
}

const DECIMAL = /^-?\d+$/;

/** A 64-bit field of a delta: a decimal string (required fields) or null (reportedCostNanos). */
function bigField(k: string, v: unknown): bigint | null {
  if (typeof v === 'string' && DECIMAL.test(v)) return BigInt(v);
  if (v === null && k === 'reportedCostNanos') return null;
  throw new PoisonMessageError(`span record ${k}=${JSON.stringify(v)} is not an integer string`);
}

/** The record a delta applies to: `back` records before record `i` (the defaults for the first). */
function baseOf(
  out: readonly SpanRecord[],
  i: number,
  delta: unknown,
): Record<string, unknown> & Partial<SpanRecord> {
  if (i === 0 && delta === undefined) return DEFAULTS_BY_KEY;
  const back = delta ?? 1;
  if (typeof back !== 'number' || !Number.isInteger(back) || back < 1 || back > i)
    throw new PoisonMessageError(
      `span record ${i}: base ${JSON.stringify(back)} is not an earlier record of the message`,
    );
  return out[i - back] as unknown as Record<string, unknown> & Partial<SpanRecord>;
}

/**
 * Records of a `{"v":3}` message: each delta applied to the record before it. The record is one
 * object literal (one object shape for pricing and the sink; a loop of keyed stores was 3x slower).
 */
function fromDeltas(spans: readonly unknown[]): SpanRecord[] {
  const out: SpanRecord[] = new Array<SpanRecord>(spans.length);
  for (let i = 0; i < spans.length; i++) {
    const o = spans[i] as Record<string, unknown> & Partial<Record<keyof SpanRecord, unknown>>;
    if (typeof o !== 'object' || o === null || Array.isArray(o))
      throw new PoisonMessageError('not a span record: expected a JSON object');
    const p = baseOf(out, i, o[BASE_FIELD]);
    const r: Record<string, unknown> = {
      traceId: o.traceId ?? p.traceId,
      spanId: o.spanId ?? p.spanId,
      parentSpanId: o.parentSpanId ?? p.parentSpanId,
      name: o.name ?? p.name,
      kind: o.kind ?? p.kind,
      startTimeUnixNano:
        o.startTimeUnixNano === undefined
          ? p.startTimeUnixNano
          : bigField('startTimeUnixNano', o.startTimeUnixNano),
      endTimeUnixNano:
        o.endTimeUnixNano === undefined
          ? p.endTimeUnixNano
          : bigField('endTimeUnixNano', o.endTimeUnixNano),
      statusCode: o.statusCode ?? p.statusCode,
      statusMessage: o.statusMessage ?? p.statusMessage,
      scopeName: o.scopeName ?? p.scopeName,
      resourceAttributes: attributesOf(o, p.resourceAttributes, 'resourceAttributes'),
      spanAttributes: attributesOf(o, p.spanAttributes, 'spanAttributes'),
      serviceName: o.serviceName ?? p.serviceName,
      spanType: o.spanType ?? p.spanType,
      operation: o.operation ?? p.operation,
      provider: o.provider ?? p.provider,
      requestModel: o.requestModel ?? p.requestModel,
      responseModel: o.responseModel ?? p.responseModel,
      sessionId: o.sessionId ?? p.sessionId,
      developer: o.developer ?? p.developer,
      team: o.team ?? p.team,
      repo: o.repo ?? p.repo,
      branch: o.branch ?? p.branch,
      commit: o.commit ?? p.commit,
      pr: o.pr ?? p.pr,
      intent: o.intent ?? p.intent,
      source: o.source ?? p.source,
      inputTokens: o.inputTokens ?? p.inputTokens,
      outputTokens: o.outputTokens ?? p.outputTokens,
      cacheReadTokens: o.cacheReadTokens ?? p.cacheReadTokens,
      cacheWriteTokens: o.cacheWriteTokens ?? p.cacheWriteTokens,
      cacheWrite5mTokens: o.cacheWrite5mTokens ?? p.cacheWrite5mTokens,
      cacheWrite1hTokens: o.cacheWrite1hTokens ?? p.cacheWrite1hTokens,
      reasoningTokens: o.reasoningTokens ?? p.reasoningTokens,
      reportedCostNanos:
        'reportedCostNanos' in o
          ? bigField('reportedCostNanos', o.reportedCostNanos)
          : p.reportedCostNanos,
      toolName: o.toolName ?? p.toolName,
      toolCallId: o.toolCallId ?? p.toolCallId,
      toolClass: o.toolClass ?? p.toolClass,
      argsHash: o.argsHash ?? p.argsHash,
      targetHash: o.targetHash ?? p.targetHash,
      resultBytes: o.resultBytes ?? p.resultBytes,
      resultTokens: o.resultTokens ?? p.resultTokens,
      isError: o.isError ?? p.isError,
    };
    for (const k of OPTIONAL_FIELDS) {
      const v = k in o ? o[k] : p[k];
      if (v !== null && v !== undefined) r[k] = v;
    }
    // Unknown fields are kept as they came (`__proto__` would replace the record's prototype).
    for (const k in o) if (!KNOWN_FIELDS.has(k) && k !== '__proto__') r[k] = o[k];
    if (
      typeof r.traceId !== 'string' ||
      typeof r.spanId !== 'string' ||
      typeof r.spanType !== 'string'
    )
      throw new PoisonMessageError('not a span record: traceId, spanId and spanType are required');
    if (typeof r.startTimeUnixNano !== 'bigint' || typeof r.endTimeUnixNano !== 'bigint')
      throw new PoisonMessageError('span record without startTimeUnixNano or endTimeUnixNano');
    out[i] = r as unknown as SpanRecord;
  }
  return out;
}

function fromCompact(parsed: unknown): SpanRecord {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new PoisonMessageError('not a span record: expected a JSON object');
  const o = parsed as Record<string, unknown>;
  // Every record gets the same fields in the same order (one object shape for pricing and the sink).
  const r: Record<string, unknown> = {
    traceId: o.traceId,
    spanId: o.spanId,
    parentSpanId: o.parentSpanId ?? RECORD_DEFAULTS.parentSpanId,
    name: o.name ?? RECORD_DEFAULTS.name,
    kind: o.kind ?? RECORD_DEFAULTS.kind,
    startTimeUnixNano: o.startTimeUnixNano,
    endTimeUnixNano: o.endTimeUnixNano,
    statusCode: o.statusCode ?? RECORD_DEFAULTS.statusCode,
    statusMessage: o.statusMessage ?? RECORD_DEFAULTS.statusMessage,
    scopeName: o.scopeName ?? RECORD_DEFAULTS.scopeName,
    resourceAttributes: o.resourceAttributes,
    spanAttributes: o.spanAttributes,
    serviceName: o.serviceName ?? RECORD_DEFAULTS.serviceName,
    spanType: o.spanType,
    operation: o.operation ?? RECORD_DEFAULTS.operation,
    provider: o.provider ?? RECORD_DEFAULTS.provider,
    requestModel: o.requestModel ?? RECORD_DEFAULTS.requestModel,
    responseModel: o.responseModel ?? RECORD_DEFAULTS.responseModel,
    sessionId: o.sessionId ?? RECORD_DEFAULTS.sessionId,
    developer: o.developer ?? RECORD_DEFAULTS.developer,
    team: o.team ?? RECORD_DEFAULTS.team,
    repo: o.repo ?? RECORD_DEFAULTS.repo,
    branch: o.branch ?? RECORD_DEFAULTS.branch,
    commit: o.commit ?? RECORD_DEFAULTS.commit,
    pr: o.pr ?? RECORD_DEFAULTS.pr,
    intent: o.intent ?? RECORD_DEFAULTS.intent,
    source: o.source ?? RECORD_DEFAULTS.source,
    inputTokens: o.inputTokens ?? RECORD_DEFAULTS.inputTokens,
    outputTokens: o.outputTokens ?? RECORD_DEFAULTS.outputTokens,
    cacheReadTokens: o.cacheReadTokens ?? RECORD_DEFAULTS.cacheReadTokens,
    cacheWriteTokens: o.cacheWriteTokens ?? RECORD_DEFAULTS.cacheWriteTokens,
    cacheWrite5mTokens: o.cacheWrite5mTokens ?? RECORD_DEFAULTS.cacheWrite5mTokens,
    cacheWrite1hTokens: o.cacheWrite1hTokens ?? RECORD_DEFAULTS.cacheWrite1hTokens,
    reasoningTokens: o.reasoningTokens ?? RECORD_DEFAULTS.reasoningTokens,
    reportedCostNanos: o.reportedCostNanos ?? RECORD_DEFAULTS.reportedCostNanos,
    toolName: o.toolName ?? RECORD_DEFAULTS.toolName,
    toolCallId: o.toolCallId ?? RECORD_DEFAULTS.toolCallId,
    toolClass: o.toolClass ?? RECORD_DEFAULTS.toolClass,
    argsHash: o.argsHash ?? RECORD_DEFAULTS.argsHash,
    targetHash: o.targetHash ?? RECORD_DEFAULTS.targetHash,
    resultBytes: o.resultBytes ?? RECORD_DEFAULTS.resultBytes,
    resultTokens: o.resultTokens ?? RECORD_DEFAULTS.resultTokens,
    isError: o.isError ?? RECORD_DEFAULTS.isError,
  };
  for (const k in o) if (!(k in r)) r[k] = o[k];
  return checkRecord(r);
}

/**
 * Span records of a session-topic message: deltas (`{"v":3,"spans":[…]}`), or, as earlier versions
 * wrote, compact records (`{"v":2}`), full records in an array, or one full record.
 */
export function decodeSpanRecords(bytes: Buffer | null): SpanRecord[] {
  if (!bytes) throw new PoisonMessageError('empty message value');
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new PoisonMessageError(
      `not a JSON span record: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  if (Array.isArray(parsed)) return parsed.map(checkRecord);
  const o = parsed as { v?: unknown; spans?: unknown } | null;
  if (typeof o === 'object' && o !== null && o.v !== undefined) {
    if ((o.v !== DELTA_VERSION && o.v !== COMPACT_VERSION) || !Array.isArray(o.spans))
      throw new PoisonMessageError(
        `unknown session-topic message version ${JSON.stringify(o.v)} (this version reads 3, 2 and the earlier forms; a newer harness-meter wrote it: upgrade every enrich process)`,
      );
    return o.v === DELTA_VERSION ? fromDeltas(o.spans) : o.spans.map(fromCompact);
  }
  return [checkRecord(parsed)];
}

export function decodeSpanRecord(bytes: Buffer | null): SpanRecord {
  const [first, ...rest] = decodeSpanRecords(bytes);
  if (!first || rest.length > 0)
    throw new PoisonMessageError(
      'expected one span record, got ' + String(rest.length + (first ? 1 : 0)),
    );
  return first;
}

function checkRecord(parsed: unknown): SpanRecord {
  const o = parsed as Record<string, unknown>;
  if (
    typeof o !== 'object' ||
    o === null ||
    typeof o.traceId !== 'string' ||
    typeof o.spanId !== 'string' ||
    typeof o.spanType !== 'string'
  ) {
    throw new PoisonMessageError('not a span record: traceId, spanId and spanType are required');
  }
  for (const f of BIGINT_FIELDS) {
    const v = o[f];
    if (v === null || v === undefined) {
      if (f !== 'reportedCostNanos') throw new PoisonMessageError(`span record without ${f}`);
      o[f] = null;
    } else if (typeof v === 'string' && /^-?\d+$/.test(v)) o[f] = BigInt(v);
    else
      throw new PoisonMessageError(
        `span record ${f}=${JSON.stringify(v)} is not an integer string`,
      );
  }
  return o as unknown as SpanRecord;
}

/** Session-affine key: every span of a session lands on one partition, in order. */
export const sessionKey = (r: SpanRecord): string => r.sessionId || `trace:${r.traceId}`;
