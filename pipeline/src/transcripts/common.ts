/**
 * What the three transcript parsers share: the context of a transcript file, stable ids, times,
 * and the span attributes of an LLM call or a tool call, named as the SDK and the OTLP path name
 * them (GenAI semantic conventions + harness_meter.*), so one derivation (toSpanRecord) serves all.
 */
import { hash } from 'node:crypto';
import { estimateTokens, redactContent, sha256Hex } from '@harness-meter/instrumentation';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_HM_SOURCE,
  ATTR_HM_TOOL_ERROR,
  ATTR_HM_TOOL_RESULT_BYTES,
  ATTR_HM_TOOL_RESULT_HASH,
  ATTR_HM_TOOL_RESULT_TOKENS,
  ATTR_USER_EMAIL,
  ATTR_VCS_REF_HEAD_NAME,
  ATTR_VCS_REF_HEAD_REVISION,
  ATTR_VCS_REPOSITORY_URL_FULL,
} from '@harness-meter/instrumentation/semconv';
import { toolArgsAttributes } from '../decode/agents.js';
import type { RawSpanParts } from '../decode/traces.js';

/** Extension: `true` on the spans of a subagent (Claude Code Task sidechain, Gemini subagent). */
export const ATTR_HM_SUBAGENT = 'harness_meter.subagent';
/** Extension: the subagent's own id when the transcript names it (Claude Code `agentId`). */
export const ATTR_HM_SUBAGENT_ID = 'harness_meter.subagent.id';
/** Extension: how a span reached harness-meter when not over OTLP (`transcript`). */
export const ATTR_HM_INGEST = 'harness_meter.ingest';
/** Opt-in only, redacted: the tool call's arguments (GenAI conventions' name). */
export const ATTR_GEN_AI_TOOL_CALL_ARGUMENTS = 'gen_ai.tool.call.arguments';

/** The agents whose transcripts are read; each is also the spans' `harness_meter.source`. */
export type TranscriptSource = 'claude-code' | 'codex' | 'gemini-cli';

/** A line that could not be read, with where it is, so the user can look at it. */
export interface TranscriptIssue {
  file: string;
  line: number;
  reason: string;
}

/** Facts the parser cannot read from the transcript itself: from git and the command line. */
export interface TranscriptContext {
  /** The developer (`--developer`, else `git config user.email`); '' when unknown. */
  developer: string;
  /** The repository URL of a working folder (its git `origin`), or undefined. Cached by the shell. */
  repoOf(cwd: string): string | undefined;
  /** Keep tool arguments (redacted) on tool spans. @default false */
  captureContent: boolean;
}

/** A context for tests and tools that know nothing beyond the transcript. */
export const NO_CONTEXT: TranscriptContext = {
  developer: '',
  repoOf: () => undefined,
  captureContent: false,
};

/** ISO time → Unix nanoseconds; undefined when it is not a time. */
export function isoToNanos(v: unknown): bigint | undefined {
  if (typeof v !== 'string') return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : BigInt(ms) * 1_000_000n;
}

/** A non-negative integer count, or 0. */
export const count = (v: unknown): number =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.trunc(v) : 0;

export const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * One transcript line → its JSON object, or undefined: blank lines are skipped, and a line that is
 * not JSON or not an object is reported through `bad` (file:line and why) and skipped.
 */
export function parseObjectLine(
  text: string,
  lineNo: number,
  bad: (lineNo: number, reason: string) => void,
): Record<string, unknown> | undefined {
  if (text.trim() === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    bad(lineNo, `not JSON (${e instanceof Error ? e.message : String(e)})`);
    return undefined;
  }
  if (!isObject(v)) {
    bad(lineNo, 'not a JSON object');
    return undefined;
  }
  return v;
}

/** Session-wide attributes: the conversation, who, where (repository, branch, commit). */
export function sessionAttributes(
  source: TranscriptSource,
  session: string,
  ctx: TranscriptContext,
  where: { cwd?: string; branch?: string; commit?: string; repo?: string },
): Record<string, string> {
  const out: Record<string, string> = {
    [ATTR_HM_SOURCE]: source,
    [ATTR_HM_INGEST]: 'transcript',
  };
  if (session) out[ATTR_GEN_AI_CONVERSATION_ID] = session;
  if (ctx.developer) out[ATTR_USER_EMAIL] = ctx.developer;
  const repo = where.repo || (where.cwd ? ctx.repoOf(where.cwd) : undefined);
  if (repo) out[ATTR_VCS_REPOSITORY_URL_FULL] = repo;
  // Claude Code writes "HEAD" when detached: no branch then.
  if (where.branch && where.branch !== 'HEAD') out[ATTR_VCS_REF_HEAD_NAME] = where.branch;
  if (where.commit) out[ATTR_VCS_REF_HEAD_REVISION] = where.commit;
  return out;
}

/** A tool call's attributes: name, id, the SDK's argument hashes, result size; never raw text. */
export function toolAttributes(
  tool: string,
  callId: string,
  args: unknown,
  result: { text: string; error: boolean } | undefined,
  ctx: TranscriptContext,
): Record<string, string> {
  const out: Record<string, string> = {
    [ATTR_GEN_AI_OPERATION_NAME]: 'execute_tool',
    [ATTR_GEN_AI_TOOL_NAME]: tool,
    ...(callId ? { [ATTR_GEN_AI_TOOL_CALL_ID]: callId } : {}),
    ...toolArgsAttributes(tool, args),
  };
  if (result) {
    const bytes = Buffer.byteLength(result.text);
    out[ATTR_HM_TOOL_RESULT_BYTES] = String(bytes);
    out[ATTR_HM_TOOL_RESULT_TOKENS] = String(estimateTokens(bytes));
    out[ATTR_HM_TOOL_RESULT_HASH] = sha256Hex(result.text);
    if (result.error) {
      out[ATTR_HM_TOOL_ERROR] = 'true';
      out[ATTR_ERROR_TYPE] = 'tool_error';
    }
  }
  if (ctx.captureContent) out[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS] = redactContent(args);
  return out;
}

/**
 * A tool result as text to measure: a string as is, content blocks (`[{type: 'text', text}]`) as
 * their texts, anything else as JSON.
 */
export function toolResultText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  if (Array.isArray(v) && v.every((b) => isObject(b) && typeof b.text === 'string'))
    return v.map((b) => (b as { text: string }).text).join('\n');
  return JSON.stringify(v) ?? '';
}

/** Assembles a span from its parts; kind CLIENT for LLM calls, INTERNAL for tool calls. */
export function span(
  source: TranscriptSource,
  identity: string,
  name: string,
  llm: boolean,
  start: bigint,
  end: bigint,
  attributes: Record<string, string>,
): RawSpanParts {
  // One digest gives both ids: the trace id its first 32 hex digits, the span id the next 16.
  const id = hash('sha256', `transcript:${source}:${identity}`, 'hex');
  return {
    traceId: id.slice(0, 32),
    spanId: id.slice(32, 48),
    parentSpanId: '',
    name,
    kind: llm ? 3 : 1,
    startTimeUnixNano: start,
    endTimeUnixNano: end < start ? start : end,
    statusCode: attributes[ATTR_HM_TOOL_ERROR] === 'true' ? 2 : 0,
    statusMessage: '',
    scopeName: `harness-meter/transcripts/${source}`,
    resourceAttributes: { 'service.name': source },
    spanAttributes: attributes,
  };
}

/**
 * A parser of one agent's transcripts: a pure core fed line by line. It keeps what it needs
 * across lines (a message written over several lines, a tool call waiting for its result) and
 * emits spans only once they are final, or when the caller says the file is settled.
 */
export interface TranscriptParser {
  readonly source: TranscriptSource;
  /** Starts (or resumes) a file; `saved` is what fileState() returned at the end of the last run. */
  beginFile(file: string, saved?: unknown): void;
  /** One line of the current file (without its newline); `offset` is the byte offset of its start. */
  line(text: string, lineNo: number, offset: number): void;
  /**
   * End of what the current file holds now. `settled`: the agent is done writing it, so whatever
   * is pending is final. Returns where to resume next time: the start of the earliest line whose
   * item is still pending, else `end`.
   */
  endFile(end: ResumePoint, settled: boolean): ResumePoint;
  /** Small JSON-able state to resume the file later at the returned offset (session, model, totals). */
  fileState(): unknown;
  /** Spans emitted since the last call. */
  take(): RawSpanParts[];
  /** Lines that could not be read since the last call. */
  takeIssues(): TranscriptIssue[];
  /** Counts since creation: lines read, spans emitted, duplicates dropped, entries without usage. */
  readonly stats: ParserStats;
}

/** A line start: its byte offset, and how many lines come before it. */
export interface ResumePoint {
  offset: number;
  line: number;
}

/** The earlier of two resume points. */
export const earlier = (a: ResumePoint, b: ResumePoint): ResumePoint =>
  b.offset < a.offset ? b : a;

export interface ParserStats {
  lines: number;
  llmCalls: number;
  toolCalls: number;
  duplicates: number;
  noUsage: number;
  malformed: number;
}

export const newStats = (): ParserStats => ({
  lines: 0,
  llmCalls: 0,
  toolCalls: 0,
  duplicates: 0,
  noUsage: 0,
  malformed: 0,
});

/**
 * A set with a bound: it keeps the last `max` / 2 to `max` keys added, in two generations (when
 * the newer one is full, the older one is dropped whole: O(1), unlike evicting one key at a time
 * from a Set). Dedup across files in one run stays in memory this way; what it forgets, the sink's
 * (TraceId, SpanId) check still drops.
 */
export class BoundedSet {
  private current = new Set<string>();
  private previous = new Set<string>();
  private readonly half: number;
  constructor(max: number) {
    this.half = Math.max(1, Math.floor(max / 2));
  }
  has(k: string): boolean {
    return this.current.has(k) || this.previous.has(k);
  }
  add(k: string): void {
    this.current.add(k);
    if (this.current.size >= this.half) {
      this.previous = this.current;
      this.current = new Set();
    }
  }
}

/**
 * Bound on the keys each parser remembers for dedup across files in one run (about 100 bytes
 * each). Past it, a repeat is still dropped by the sink's (TraceId, SpanId) check, as span ids do
 * not depend on the file or the session a copy sits in.
 */
export const DEDUP_MEMORY_KEYS = 200_000;

export { sha256Hex };
