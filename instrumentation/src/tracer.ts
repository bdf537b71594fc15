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
import {
  canonicalJson,
  classifyTool,
  editHashes,
  estimateTokens,
  inferTarget,
  isTransientFailure,
  normalizeArgs,
  normalizeTarget,
  readRange,
  resultText,
  sha256Hex,
} from './hashing.js';
import { redact, redactContent } from './redact.js';
import { describeToolCall, type CallShape } from './tool-schemas.js';
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
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_CALL_RESULT,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_TOOL_TYPE,
  ATTR_HM_CONTEXT_COMPACTION,
  ATTR_HM_TOOL_ARGS_BYTES,
  ATTR_HM_TOOL_ARGS_HASH,
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
  shapeAttributes,
  shellCwds,
  toSessionCall,
} from './session-calls.js';

/** Instrumentation scope of the spans the wrappers make. */
export const INSTRUMENTATION_NAME = '@harness-meter/instrumentation';
export const INSTRUMENTATION_VERSION = '0.1.0';

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

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null;
const isPromise = (v: unknown): v is PromiseLike<unknown> =>
  isObj(v) && typeof (v as { then?: unknown }).then === 'function';

const OPENAI_OBJECTS = /^(?:chat\.completion|response|text_completion)/;

/** Does this look like a provider response (Anthropic Messages, OpenAI Chat/Responses, Gemini)? */
function looksLikeResponse(r: Obj): boolean {
  return (
    r.type === 'message' ||
    'stop_reason' in r ||
    Array.isArray(r.choices) ||
    Array.isArray(r.candidates) ||
    (typeof r.object === 'string' && OPENAI_OBJECTS.test(r.object)) ||
    isObj(r.usage) ||
    isObj(r.usageMetadata)
  );
}

/** gen_ai.response.* from a provider response, duck-typed (no dependency on the providers' SDKs). */
function responseAttributes(r: unknown): Attributes {
  const a: Attributes = {};
  if (!isObj(r) || !looksLikeResponse(r)) return a;
  const model = typeof r.model === 'string' ? r.model : r.modelVersion; // Gemini: modelVersion
  if (typeof model === 'string' && model) a[ATTR_GEN_AI_RESPONSE_MODEL] = model;
  const id = typeof r.id === 'string' ? r.id : r.responseId; // Gemini: responseId
  if (typeof id === 'string' && id) a[ATTR_GEN_AI_RESPONSE_ID] = id;
  const reasons: string[] = [];
  if (typeof r.stop_reason === 'string') reasons.push(r.stop_reason); // Anthropic
  if (Array.isArray(r.choices))
    for (const c of r.choices as unknown[])
      if (isObj(c) && typeof c.finish_reason === 'string') reasons.push(c.finish_reason); // OpenAI chat
  if (Array.isArray(r.candidates))
    for (const c of r.candidates as unknown[])
      if (isObj(c) && typeof c.finishReason === 'string') reasons.push(c.finishReason); // Gemini
  if (isObj(r.incomplete_details) && typeof r.incomplete_details.reason === 'string')
    reasons.push(r.incomplete_details.reason); // OpenAI Responses, when cut short
  if (reasons.length > 0) a[ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = reasons;
  return a;
}

/** The usage object a provider response carries, if any. */
const responseUsage = (result: unknown): unknown =>
  isObj(result) ? (result.usage ?? result.usageMetadata) : undefined;

/**
 * error.type: the error's class name (`RangeError`, `AbortError`), or its string `code` when the
 * class says nothing more than `Error` (`ENOENT`); `_OTHER` for thrown non-errors (semconv fallback).
 */
function errorType(err: unknown): string {
  if (!(err instanceof Error)) return '_OTHER';
  const name = err.name || err.constructor.name || 'Error';
  const code = (err as { code?: unknown }).code;
  return name === 'Error' && typeof code === 'string' && code ? code : name;
}

/** Parts of a thrown error that go on the span, redacted: messages often quote commands and URLs. */
function exceptionOf(err: unknown): { name: string; message: string; stack?: string } {
  if (err instanceof Error) {
    const out: { name: string; message: string; stack?: string } = {
      name: err.name || err.constructor.name || 'Error',
      message: redact(err.message),
    };
    if (typeof err.stack === 'string') out.stack = redact(err.stack);
    return out;
  }
  let text: string;
  try {
    text = typeof err === 'string' ? err : String(err);
  } catch {
    text = typeof err;
  }
  return { name: '_OTHER', message: redact(text) };
}

/** Callbacks of `run`: what to record when the wrapped function returns, or throws. */
interface RunHooks<T> {
  onResult?: (result: Awaited<T>) => void;
  onError?: (error: unknown) => void;
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

  /**
   * Runs fn as the active span and ends the span on return, on resolve, and on throw (recording
   * the error, then rethrowing the ORIGINAL error unchanged). Telemetry work never throws.
   */
  function run<T>(span: Span, fn: () => T, hooks: RunHooks<T>): T {
    const fail = (err: unknown): void => {
      safe(() => {
        const ex = exceptionOf(err);
        span.recordException(ex);
        span.setStatus({ code: SpanStatusCode.ERROR, message: ex.message });
        span.setAttribute(ATTR_ERROR_TYPE, errorType(err));
      });
      if (hooks.onError) safe(() => hooks.onError?.(err));
    };
    const succeed = (value: Awaited<T>): void => {
      if (hooks.onResult) safe(() => hooks.onResult?.(value));
    };
    const end = (): void => safe(() => span.end());
    let result: T;
    try {
      result = context.with(trace.setSpan(context.active(), span), fn);
    } catch (err) {
      fail(err);
      end();
      throw err;
    }
    if (isPromise(result)) {
      return Promise.resolve(result).then(
        (value) => {
          succeed(value);
          end();
          return value;
        },
        (err: unknown) => {
          fail(err);
          end();
          throw err;
        },
      ) as T;
    }
    succeed(result as Awaited<T>);
    end();
    return result;
  }

  function sessionAttributes(): Attributes {
    try {
      return activeSession()?.attributes() ?? {};
    } catch (e) {
      report(e);
      return {};
    }
  }

  const describeOptions = {
    ...(options.shellParser ? { parse: options.shellParser } : {}),
    ...(options.shellCommands ? { shellCommands: options.shellCommands } : {}),
  };

  /** The tool's schema (per-agent argument shapes, shell model), or undefined for an unknown tool. */
  function shapeOf(request: ToolRequest, session: Session | undefined): CallShape | undefined {
    let shape: CallShape | undefined;
    const shellCwd = session ? shellCwds.get(session) : undefined;
    safe(() => {
      shape = describeToolCall(String(request.name), request.args, {
        ...describeOptions,
        ...(session?.cwd ? { cwd: session.cwd } : {}),
        ...(shellCwd === undefined ? {} : { shellCwd }),
      });
    });
    return shape;
  }

  /** The attributes of a tool call that come from its request (hashes, class, range, content). */
  function toolAttributes(
    request: ToolRequest,
    withContent = capture,
    shape?: CallShape,
    session?: Session,
  ): Attributes {
    const name = String(request.name);
    const attrs: Attributes = {
      [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION.executeTool,
      [ATTR_GEN_AI_TOOL_NAME]: name,
    };
    safe(() => {
      attrs[ATTR_HM_TOOL_CLASS] = request.toolClass ?? shape?.cls ?? classifyTool(name);
    });
    if (request.callId) attrs[ATTR_GEN_AI_TOOL_CALL_ID] = String(request.callId);
    if (request.type) attrs[ATTR_GEN_AI_TOOL_TYPE] = String(request.type);
    safe(() => {
      if (request.args === undefined) return;
      const text = canonicalJson(shape ? shape.key : normalizeArgs(request.args));
      attrs[ATTR_HM_TOOL_ARGS_HASH] = sha256Hex(text);
      attrs[ATTR_HM_TOOL_ARGS_BYTES] = Buffer.byteLength(text);
    });
    safe(() => {
      const target =
        typeof request.target === 'string'
          ? normalizeTarget(request.target, request.args)
          : shape
            ? shape.target
            : inferTarget(request.args);
      if (target !== undefined) attrs[ATTR_HM_TOOL_TARGET_HASH] = sha256Hex(target);
    });
    safe(() => {
      if (shape) {
        Object.assign(attrs, shapeAttributes(shape, attrs[ATTR_HM_TOOL_TARGET_HASH], session));
        return;
      }
      const range = readRange(request.args);
      if (range) {
        attrs[ATTR_HM_TOOL_RANGE_START] = range.start;
        if (range.end !== undefined) attrs[ATTR_HM_TOOL_RANGE_END] = range.end;
      }
      const edit = editHashes(request.args);
      if (edit?.before) attrs[ATTR_HM_TOOL_EDIT_BEFORE_HASH] = edit.before;
      if (edit?.after) attrs[ATTR_HM_TOOL_EDIT_AFTER_HASH] = edit.after;
    });
    if (withContent && request.args !== undefined)
      safe(() => {
        attrs[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS] = redactContent(request.args);
      });
    return attrs;
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
      return context.with(parent, () => run(span, () => fn(session), {}));
    },

    llmCall<T>(request: LlmRequest, fn: (llm: LlmSpan) => T, opts?: LlmCallOptions<Awaited<T>>): T {
      const operation = request.operation || GEN_AI_OPERATION.chat;
      const model = String(request.model);
      const span = startSpan(spanNameForInference(operation, model), SpanKind.CLIENT, {
        ...sessionAttributes(),
        [ATTR_GEN_AI_OPERATION_NAME]: operation,
        [ATTR_GEN_AI_PROVIDER_NAME]: String(request.provider),
        [ATTR_GEN_AI_REQUEST_MODEL]: model,
      });
      let usageRecorded = false;
      const handle: LlmSpan = {
        span,
        recordUsage: (usage) =>
          safe(() => {
            const u = normalizeUsage(usage);
            if (u) {
              span.setAttributes(usageAttributes(u));
              usageRecorded = true;
            } else if (usage !== undefined) {
              report(new TypeError('harness-meter: unrecognized usage object; no tokens recorded'));
            }
          }),
        recordResponse: (response) => safe(() => span.setAttributes(responseAttributes(response))),
      };
      return run(span, () => fn(handle), {
        onResult: (result) => {
          handle.recordResponse(result);
          if (usageRecorded) return;
          let usage: unknown;
          try {
            usage = opts?.usage ? opts.usage(result) : responseUsage(result);
          } catch (e) {
            report(e);
            return;
          }
          if (usage !== undefined) handle.recordUsage(usage);
        },
      });
    },

    toolCall<T>(request: ToolRequest, fn: () => T, opts?: ToolCallOptions<Awaited<T>>): T {
      let session: Session | undefined;
      safe(() => {
        session = activeSession();
      });
      const shape = shapeOf(request, session);
      const attrs: Attributes = {
        ...sessionAttributes(),
        ...toolAttributes(request, capture, shape, session),
      };
      const span = startSpan(spanNameForTool(String(request.name)), SpanKind.INTERNAL, attrs);
      let call: SessionCall | undefined;
      safe(() => {
        if (session)
          call = toSessionCall(request, attrs, request.callId || span.spanContext().spanId);
      });
      const remember = (
        resultTokens: number,
        failed: boolean,
        lines?: number,
        transient = false,
      ): void =>
        safe(() => {
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
          if (!failed) rememberContent(session, shape, attrs);
          // Claude Code's Bash and Cursor's terminal keep their directory between calls
          if (
            !failed &&
            shape?.shellCwd &&
            PERSISTENT_SHELLS.has(String(request.name).toLowerCase())
          )
            shellCwds.set(session, shape.shellCwd);
        });
      return run(span, fn, {
        onResult: (result) => {
          let failed = false;
          if (opts?.isError) {
            try {
              failed = opts.isError(result) === true;
            } catch (e) {
              report(e);
            }
          }
          let tokens = 0;
          let lines: number | undefined;
          let transient = false;
          safe(() => {
            const text = resultText(result);
            lines = lineCount(text);
            if (failed) transient = isTransientFailure(text);
            const bytes = Buffer.byteLength(text);
            tokens = estimateTokens(bytes);
            span.setAttributes({
              [ATTR_HM_TOOL_RESULT_BYTES]: bytes,
              [ATTR_HM_TOOL_RESULT_TOKENS]: tokens,
              [ATTR_HM_TOOL_RESULT_HASH]: sha256Hex(text),
            });
          });
          if (capture)
            safe(() => span.setAttribute(ATTR_GEN_AI_TOOL_CALL_RESULT, redactContent(result)));
          if (failed)
            safe(() => {
              span.setStatus({ code: SpanStatusCode.ERROR, message: 'the tool reported an error' });
              span.setAttribute(ATTR_ERROR_TYPE, 'tool_error');
              span.setAttribute(ATTR_HM_TOOL_ERROR, 'true');
            });
          remember(failed ? 0 : tokens, failed, lines, transient);
        },
        onError: (err) => {
          span.setAttribute(ATTR_HM_TOOL_ERROR, 'true');
          let transient = false;
          safe(() => {
            const code = (err as { code?: unknown } | null)?.code;
            const message = err instanceof Error ? err.message : String(err);
            transient = isTransientFailure(`${typeof code === 'string' ? code : ''} ${message}`);
          });
          remember(0, true, undefined, transient);
        },
      });
    },

    checkRedundancy(request) {
      try {
        const session = activeSession();
        if (!session) return undefined;
        const shape = shapeOf(request, session);
        const attrs = toolAttributes(request, false, shape, session);
        const candidate = toSessionCall(request, attrs, '\u0000candidate');
        const range = resolvedRange(shape, undefined);
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
