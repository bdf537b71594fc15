import { randomUUID } from 'node:crypto';
import {
  context,
  diag,
  INVALID_SPAN_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { estimateTokens, isTransientFailure, resultText, sha256Hex } from './hashing.js';
import { redactContent } from './redact.js';
import { errorType, exceptionOf, isObj, responseAttributes, responseUsage } from './span-facts.js';
import { describeToolCall, type CallShape, type DescribeOptions } from './tool-schemas.js';
import { RecentCache, requestPath, toolFacts, type ToolFacts } from './tool-facts.js';
import { findRedundancy, type SessionCall } from './rules.js';
import {
  activeSession,
  createSession,
  withSessionContext,
  type Session,
  type SessionContext,
} from './session.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_AGENT_NAME,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_CALL_RESULT,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_TOOL_TYPE,
  ATTR_HM_CONTEXT_COMPACTION,
  ATTR_HM_TOOL_CLASS,
  ATTR_HM_TOOL_EDIT_AFTER_HASH,
  ATTR_HM_TOOL_EDIT_BEFORE_HASH,
  ATTR_HM_TOOL_ERROR,
  ATTR_HM_TOOL_ERROR_TRANSIENT,
  ATTR_HM_TOOL_RANGE_END,
  ATTR_HM_TOOL_RANGE_START,
  ATTR_HM_TOOL_RESULT_BYTES,
  ATTR_HM_TOOL_RESULT_HASH,
  ATTR_HM_TOOL_RESULT_TOKENS,
  ATTR_HM_TOOL_TARGET_HASH,
  GEN_AI_OPERATION,
  INSTRUMENTATION_NAME,
  INSTRUMENTATION_VERSION,
  spanNameForAgent,
  spanNameForInference,
  spanNameForTool,
} from './semconv.js';
import { normalizeUsage, usageAttributes } from './usage.js';
import {
  clock,
  lineCount,
  PERSISTENT_SHELLS,
  rememberContent,
  resolvedRange,
  shellCwds,
  toSessionCall,
  writtenContent,
} from './session-calls.js';

export { INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION } from './semconv.js';

export type {
  HarnessTracerOptions,
  LlmRequest,
  LlmSpan,
  LlmCallOptions,
  ToolRequest,
  RedundancyWarning,
  ToolCallOptions,
  HarnessTracer,
} from './tracer-types.js';
import type {
  HarnessTracerOptions,
  LlmRequest,
  LlmSpan,
  LlmCallOptions,
  ToolRequest,
  ToolCallOptions,
  HarnessTracer,
} from './tracer-types.js';

const isPromise = (v: unknown): v is PromiseLike<unknown> =>
  isObj(v) && typeof (v as { then?: unknown }).then === 'function';

/**
 * Distinct tool requests whose facts a tracer remembers (each with up to 2 KB of argument text and
 * its hashes: a few MB at most; a coding session repeats far fewer distinct calls).
 */
const FACTS_CACHE_SIZE = 512;

/** What to record when a wrapped function returns, or throws: one object per call, no closures. */
interface CallEnd<T> {
  result(value: Awaited<T>): void;
  error(err: unknown): void;
}

/**
 * Creates the wrappers over a tracer, for harnesses that already run OpenTelemetry (and for
 * tests). `startTelemetry` returns the same API plus `forceFlush`/`shutdown`.
 *
 * @example
 * const provider = new NodeTracerProvider({
 *   spanProcessors: [new SessionSpanProcessor(), new BatchSpanProcessor(exporter)],
 * });
 * provider.register();
 * const hm = createHarnessTracer({ tracerProvider: provider });
 * await hm.withSession({ agentName: 'coder', developer: 'ana' }, () => agentLoop(hm));
 */
export function createHarnessTracer(options: HarnessTracerOptions = {}): HarnessTracer {
  const tracer =
    options.tracer ??
    (options.tracerProvider ?? trace.getTracerProvider()).getTracer(
      INSTRUMENTATION_NAME,
      INSTRUMENTATION_VERSION,
    );
  const capture = options.captureContent ?? false;
  const userReport = options.onError;
  const report = (e: unknown): void => {
    try {
      if (userReport) userReport(e);
      else diag.warn('harness-meter: telemetry error', e);
    } catch {
      // a failing error callback must not reach the harness either
    }
  };
  const safe = (f: () => void): void => {
    try {
      f();
    } catch (e) {
      report(e);
    }
  };

  /** Starts a span; if the tracer fails, a non-recording span, so the harness still runs. */
  function startSpan(name: string, kind: SpanKind, attributes: Attributes, ctx?: Context): Span {
    try {
      return tracer.startSpan(name, { kind, attributes }, ctx ?? context.active());
    } catch (e) {
      report(e);
      return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    }
  }

  function endSpan(span: Span): void {
    try {
      span.end();
    } catch (e) {
      report(e);
    }
  }

  function succeed<T>(span: Span, value: Awaited<T>, end: CallEnd<T> | undefined): void {
    if (end)
      try {
        end.result(value);
      } catch (e) {
        report(e);
      }
    endSpan(span);
  }

  /** Records the error on the span (redacted), tells the call, ends the span. */
  function fail<T>(span: Span, err: unknown, end: CallEnd<T> | undefined): void {
    try {
      const ex = exceptionOf(err);
      span.recordException(ex);
      span.setStatus({ code: SpanStatusCode.ERROR, message: ex.message });
      span.setAttribute(ATTR_ERROR_TYPE, errorType(err));
    } catch (e) {
      report(e);
    }
    if (end)
      try {
        end.error(err);
      } catch (e) {
        report(e);
      }
    endSpan(span);
  }

  /**
   * Runs fn as the active span and ends the span on return, on resolve, and on throw (recording
   * the error, then rethrowing the ORIGINAL error unchanged). Telemetry work never throws.
   */
  function run<T>(span: Span, fn: () => T, end?: CallEnd<T>): T {
    let result: T;
    try {
      result = context.with(trace.setSpan(context.active(), span), fn);
    } catch (err) {
      fail(span, err, end);
      throw err;
    }
    if (isPromise(result)) {
      return Promise.resolve(result).then(
        (value) => {
          succeed(span, value, end);
          return value;
        },
        (err: unknown) => {
          fail(span, err, end);
          throw err;
        },
      ) as T;
    }
    succeed(span, result as Awaited<T>, end);
    return result;
  }

  /** The session's attributes, as a fresh object the caller adds its own to. */
  function sessionAttributes(session: Session | undefined = activeSession()): Attributes {
    try {
      return session?.attributes() ?? {};
    } catch (e) {
      report(e);
      return {};
    }
  }

  const describeOptions: DescribeOptions = {
    ...(options.shellParser ? { parse: options.shellParser } : {}),
    ...(options.shellCommands ? { shellCommands: options.shellCommands } : {}),
  };

  /** Request facts by request key (bounded; see tool-facts.ts). */
  const factsCache = new RecentCache<ToolFacts>(FACTS_CACHE_SIZE);

  /**
   * The request's facts: remembered for a request seen before (same tool, arguments, target and
   * working directories), else described (per-agent argument shapes, shell model) and hashed.
   */
  function factsOf(request: ToolRequest, session: Session | undefined): ToolFacts {
    let key: unknown[] | undefined;
    let o = describeOptions;
    let clean = true;
    try {
      const cwd = session?.cwd;
      const shellCwd = session ? shellCwds.get(session) : undefined;
      key = requestPath(request, cwd, shellCwd);
      const known = key === undefined ? undefined : factsCache.get(key);
      if (known) return known;
      if (cwd || shellCwd !== undefined) {
        o = Object.assign({}, describeOptions); // not a spread: see Session.attributes()
        if (cwd) o.cwd = cwd;
        if (shellCwd !== undefined) o.shellCwd = shellCwd;
      }
    } catch (e) {
      report(e);
      clean = false;
    }
    let shape: CallShape | undefined;
    try {
      shape = describeToolCall(String(request.name), request.args, o);
    } catch (e) {
      report(e);
      clean = false;
    }
    const made = toolFacts(request, shape, report);
    // facts made while something failed are not remembered: the next call tries again
    if (clean && made.clean && key !== undefined)
      try {
        factsCache.set(key, made.facts);
      } catch (e) {
        report(e);
      }
    return made.facts;
  }

  /** Adds a tool call's attributes to `attrs`: its request's facts, then what is per call. */
  function addToolAttributes(
    attrs: Attributes,
    request: ToolRequest,
    withContent: boolean,
    facts: ToolFacts,
    session: Session | undefined,
  ): Attributes {
    attrs[ATTR_GEN_AI_OPERATION_NAME] = GEN_AI_OPERATION.executeTool;
    attrs[ATTR_GEN_AI_TOOL_NAME] = String(request.name);
    const cls = request.toolClass ?? facts.cls;
    if (cls !== undefined) attrs[ATTR_HM_TOOL_CLASS] = cls;
    if (request.callId) attrs[ATTR_GEN_AI_TOOL_CALL_ID] = String(request.callId);
    if (request.type) attrs[ATTR_GEN_AI_TOOL_TYPE] = String(request.type);
    Object.assign(attrs, facts.attrs);
    try {
      let before = facts.before;
      // A whole-file write's before-state: what the session last wrote there (Write v1 → v2 → v1)
      if (before === undefined && facts.fullWrite && session)
        before = writtenContent.get(session)?.get(attrs[ATTR_HM_TOOL_TARGET_HASH] as string);
      if (before) attrs[ATTR_HM_TOOL_EDIT_BEFORE_HASH] = before;
      if (facts.after) attrs[ATTR_HM_TOOL_EDIT_AFTER_HASH] = facts.after;
    } catch (e) {
      report(e);
    }
    if (withContent && request.args !== undefined)
      try {
        attrs[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS] = redactContent(request.args);
      } catch (e) {
        report(e);
      }
    return attrs;
  }

  /** What a tool call records when it returns or throws, and what its session remembers. */
  class ToolCallEnd<T> implements CallEnd<T> {
    call: SessionCall | undefined;
    constructor(
      readonly span: Span,
      readonly request: ToolRequest,
      readonly attrs: Attributes,
      readonly facts: ToolFacts,
      readonly session: Session | undefined,
      readonly opts: ToolCallOptions<Awaited<T>> | undefined,
    ) {
      if (session)
        try {
          this.call = toSessionCall(
            request,
            attrs,
            request.callId || span.spanContext().spanId,
            facts,
          );
        } catch (e) {
          report(e);
        }
    }

    result(result: Awaited<T>): void {
      const span = this.span;
      let failed = false;
      if (this.opts?.isError) {
        try {
          failed = this.opts.isError(result) === true;
        } catch (e) {
          report(e);
        }
      }
      let tokens = 0;
      let lines: number | undefined;
      let transient = false;
      try {
        const text = resultText(result);
        // only a read that stops at a default limit needs its lines (resolvedRange)
        if (this.facts.shape?.defaultLimit) lines = lineCount(text);
        if (failed) transient = isTransientFailure(text);
        const bytes = Buffer.byteLength(text);
        tokens = estimateTokens(bytes);
        const hash = sha256Hex(text);
        // one by one, not setAttributes({...}): no object to build and iterate per call
        span.setAttribute(ATTR_HM_TOOL_RESULT_BYTES, bytes);
        span.setAttribute(ATTR_HM_TOOL_RESULT_TOKENS, tokens);
        span.setAttribute(ATTR_HM_TOOL_RESULT_HASH, hash);
      } catch (e) {
        report(e);
      }
      if (capture)
        try {
          span.setAttribute(ATTR_GEN_AI_TOOL_CALL_RESULT, redactContent(result));
        } catch (e) {
          report(e);
        }
      if (failed)
        try {
          span.setStatus({ code: SpanStatusCode.ERROR, message: 'the tool reported an error' });
          span.setAttribute(ATTR_ERROR_TYPE, 'tool_error');
          span.setAttribute(ATTR_HM_TOOL_ERROR, 'true');
        } catch (e) {
          report(e);
        }
      this.remember(failed ? 0 : tokens, failed, lines, transient);
    }

    error(err: unknown): void {
      this.span.setAttribute(ATTR_HM_TOOL_ERROR, 'true');
      let transient = false;
      try {
        const code = (err as { code?: unknown } | null)?.code;
        const message = err instanceof Error ? err.message : String(err);
        transient = isTransientFailure(`${typeof code === 'string' ? code : ''} ${message}`);
      } catch (e) {
        report(e);
      }
      this.remember(0, true, undefined, transient);
    }

    remember(resultTokens: number, failed: boolean, lines: number | undefined, transient: boolean) {
      try {
        const { span, facts, session, call } = this;
        const shape = facts.shape;
        if (transient) span.setAttribute(ATTR_HM_TOOL_ERROR_TRANSIENT, 'true');
        const range = resolvedRange(shape, lines);
        if (range) {
          span.setAttribute(ATTR_HM_TOOL_RANGE_START, range.start);
          if (range.end !== undefined) span.setAttribute(ATTR_HM_TOOL_RANGE_END, range.end);
        }
        if (!session || !call) return;
        if (range) {
          call.rangeStart = range.start;
          if (range.end !== undefined) call.rangeEnd = range.end;
        }
        call.end = clock();
        call.isError = failed;
        if (transient) call.transient = true;
        call.resultTokens = resultTokens;
        session.record(call);
        if (!failed) rememberContent(session, facts, this.attrs);
        // Claude Code's Bash and Cursor's terminal keep their directory between calls
        if (
          !failed &&
          shape?.shellCwd &&
          PERSISTENT_SHELLS.has(String(this.request.name).toLowerCase())
        )
          shellCwds.set(session, shape.shellCwd);
      } catch (e) {
        report(e);
      }
    }
  }

  /** What an LLM call records when it returns: response facts, and usage unless already recorded. */
  class LlmCallEnd<T> implements CallEnd<T> {
    usageRecorded = false;
    readonly handle: LlmSpan;
    constructor(
      readonly span: Span,
      readonly opts: LlmCallOptions<Awaited<T>> | undefined,
    ) {
      // arrow functions: a harness may pass llm.recordUsage around on its own
      this.handle = {
        span,
        recordUsage: (usage) => this.recordUsage(usage),
        recordResponse: (response) => this.recordResponse(response),
      };
    }

    recordUsage(usage: unknown): void {
      try {
        const u = normalizeUsage(usage);
        if (u) {
          this.span.setAttributes(usageAttributes(u));
          this.usageRecorded = true;
        } else if (usage !== undefined) {
          report(new TypeError('harness-meter: unrecognized usage object; no tokens recorded'));
        }
      } catch (e) {
        report(e);
      }
    }

    recordResponse(response: unknown): void {
      try {
        this.span.setAttributes(responseAttributes(response));
      } catch (e) {
        report(e);
      }
    }

    result(result: Awaited<T>): void {
      this.recordResponse(result);
      if (this.usageRecorded) return;
      let usage: unknown;
      try {
        usage = this.opts?.usage ? this.opts.usage(result) : responseUsage(result);
      } catch (e) {
        report(e);
        return;
      }
      if (usage !== undefined) this.recordUsage(usage);
    }

    error(): void {}
  }

  return {
    withSession<T>(ctx: SessionContext, fn: (session: Session) => T): T {
      let session: Session;
      let parent: Context;
      let attrs: Attributes;
      try {
        session = createSession(ctx, ctx.sessionId || randomUUID());
        parent = withSessionContext(context.active(), session);
        attrs = session.attributes();
      } catch (e) {
        // The session cannot be tracked as given; the harness still runs, in a bare session.
        report(e);
        session = createSession({}, randomUUID());
        parent = withSessionContext(context.active(), session);
        attrs = { [ATTR_GEN_AI_CONVERSATION_ID]: session.id };
      }
      const agent = typeof ctx.agentName === 'string' ? ctx.agentName : '';
      const span = startSpan(
        spanNameForAgent(agent),
        SpanKind.INTERNAL,
        {
          [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION.invokeAgent,
          ...(agent ? { [ATTR_GEN_AI_AGENT_NAME]: agent } : {}),
          ...attrs,
        },
        parent,
      );
      return context.with(parent, () => run(span, () => fn(session)));
    },

    llmCall<T>(request: LlmRequest, fn: (llm: LlmSpan) => T, opts?: LlmCallOptions<Awaited<T>>): T {
      const operation = request.operation || GEN_AI_OPERATION.chat;
      const model = String(request.model);
      const attrs = sessionAttributes();
      attrs[ATTR_GEN_AI_OPERATION_NAME] = operation;
      attrs[ATTR_GEN_AI_PROVIDER_NAME] = String(request.provider);
      attrs[ATTR_GEN_AI_REQUEST_MODEL] = model;
      const span = startSpan(spanNameForInference(operation, model), SpanKind.CLIENT, attrs);
      const end = new LlmCallEnd<T>(span, opts);
      return run(span, () => fn(end.handle), end);
    },

    toolCall<T>(request: ToolRequest, fn: () => T, opts?: ToolCallOptions<Awaited<T>>): T {
      let session: Session | undefined;
      try {
        session = activeSession();
      } catch (e) {
        report(e);
      }
      const facts = factsOf(request, session);
      const attrs = addToolAttributes(sessionAttributes(session), request, capture, facts, session);
      const span = startSpan(spanNameForTool(String(request.name)), SpanKind.INTERNAL, attrs);
      return run(span, fn, new ToolCallEnd<T>(span, request, attrs, facts, session, opts));
    },

    checkRedundancy(request) {
      try {
        const session = activeSession();
        if (!session) return undefined;
        const facts = factsOf(request, session);
        const attrs = addToolAttributes({}, request, false, facts, session);
        const candidate = toSessionCall(request, attrs, '\u0000candidate');
        const range = resolvedRange(facts.shape, undefined);
        if (range) {
          candidate.rangeStart = range.start;
          if (range.end !== undefined) candidate.rangeEnd = range.end;
        }
        candidate.end = candidate.at;
        const found = findRedundancy([...session.history, candidate]).find(
          (f) => f.spanId === candidate.spanId,
        );
        return found ? { kind: found.kind, repeatsCallId: found.repeatsSpanId } : undefined;
      } catch (e) {
        report(e);
        return undefined;
      }
    },

    currentSession: activeSession,

    markCompaction() {
      safe(() =>
        activeSession()?.record({
          spanId: `compaction-${String(clock())}`,
          at: clock(),
          type: 'compaction',
        }),
      );
      safe(() =>
        startSpan('context_compaction', SpanKind.INTERNAL, {
          ...sessionAttributes(),
          [ATTR_HM_CONTEXT_COMPACTION]: 'true',
        }).end(),
      );
    },
  };
}
