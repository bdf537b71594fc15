import { randomUUID } from 'node:crypto';
import {
  context,
  diag,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import {
  canonicalJson,
  classifyTool,
  estimateTokens,
  inferTarget,
  normalizeArgs,
  resultText,
  readRange,
  editHashes,
  sha256Hex,
  type ToolClass,
} from './hashing.js';
import { redact } from './redact.js';
import { findRedundancy, type CallClass, type SessionCall, type WasteKind } from './rules.js';
import {
  activeSession,
  createSession,
  withSessionContext,
  type Session,
  type SessionContext,
} from './session.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_HM_CONTEXT_COMPACTION,
  ATTR_HM_TOOL_EDIT_AFTER_HASH,
  ATTR_HM_TOOL_EDIT_BEFORE_HASH,
  ATTR_HM_TOOL_RANGE_END,
  ATTR_HM_TOOL_RANGE_START,
  ATTR_GEN_AI_AGENT_NAME,
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
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  ATTR_HM_TOOL_ARGS_BYTES,
  ATTR_HM_TOOL_ARGS_HASH,
  ATTR_HM_TOOL_CLASS,
  ATTR_HM_TOOL_ERROR,
  ATTR_HM_TOOL_RESULT_BYTES,
  ATTR_HM_TOOL_RESULT_HASH,
  ATTR_HM_TOOL_RESULT_TOKENS,
  ATTR_HM_TOOL_TARGET_HASH,
  ATTR_HM_USAGE_CACHE_CREATION_1H,
  ATTR_HM_USAGE_CACHE_CREATION_5M,
  GEN_AI_OPERATION,
  spanNameForAgent,
  spanNameForInference,
  spanNameForTool,
} from './semconv.js';
import { normalizeUsage, type Usage } from './usage.js';

export interface HarnessTracerOptions {
  /** Tracer to create spans with (default: the global provider's `@harness-meter/instrumentation` tracer). */
  tracer?: Tracer;
  /** Put redacted, truncated tool arguments and results on spans. Default false: hashes and sizes only. */
  captureContent?: boolean;
  /** Told about telemetry failures (which never reach the harness). Default: OpenTelemetry's diag logger. */
  onError?: (error: unknown) => void;
}

export interface LlmRequest {
  /** gen_ai.provider.name: anthropic, openai, gcp.gemini, aws.bedrock, ... */
  provider: string;
  /** gen_ai.request.model */
  model: string;
  /** gen_ai.operation.name; default chat */
  operation?: string;
}

/** Handle on an LLM call span, for harnesses that learn usage later (streaming). */
export interface LlmSpan {
  readonly span: Span;
  /** Records usage: a provider `usage` object (Anthropic, OpenAI) or a normalized `Usage`. */
  recordUsage(usage: unknown): void;
  /** Records response facts (model, id, finish reasons) from a provider response. */
  recordResponse(response: unknown): void;
}

export interface LlmCallOptions<R> {
  /** Where the usage is in the result; default `result.usage`. */
  usage?: (result: R) => unknown;
}

export interface ToolRequest {
  /** gen_ai.tool.name */
  name: string;
  /** gen_ai.tool.call.id (e.g. the provider's tool_use id) */
  callId?: string;
  /** gen_ai.tool.type: function, extension, datastore */
  type?: string;
  /** Overrides the class inferred from the name. */
  toolClass?: ToolClass;
  /** The arguments: hashed (after normalization), never stored unless content capture is on. */
  args?: unknown;
  /** The target (path, query, command, URL); inferred from args when absent. */
  target?: string;
}

/** What `checkRedundancy` says about a call that has not run yet. */
export interface RedundancyWarning {
  kind: WasteKind;
  /** Tool call id (or span id) of the earlier call this one would repeat. */
  repeatsCallId: string;
}

export interface ToolCallOptions<R> {
  /** Tells whether a returned result is a failure (e.g. a non-zero exit code). */
  isError?: (result: R) => boolean;
}

/** The wrappers a harness calls. */
export interface HarnessTracer {
  /**
   * Runs `fn` as one agent session (`invoke_agent` span); every span started inside carries the
   * session context.
   * @example await hm.withSession({ developer: 'ana', repositoryUrl, branch, pr: 12 }, async (s) => { ... });
   */
  withSession<T>(ctx: SessionContext, fn: (session: Session) => T): T;
  /**
   * Runs one LLM call as a `chat {model}` span, reading usage (with cache tokens) and response
   * facts from the result.
   * @example const msg = await hm.llmCall({ provider: 'anthropic', model }, () => client.messages.create(req));
   */
  llmCall<T>(request: LlmRequest, fn: (llm: LlmSpan) => T, options?: LlmCallOptions<Awaited<T>>): T;
  /**
   * Runs one tool call as an `execute_tool {name}` span with argument/target hashes and result size.
   * @example const text = await hm.toolCall({ name: 'Read', args: { file_path } }, () => readFile(file_path, 'utf8'));
   */
  toolCall<T>(request: ToolRequest, fn: () => T, options?: ToolCallOptions<Awaited<T>>): T;
  /** The session of the current context, if any. */
  currentSession(): Session | undefined;
  /**
   * Asks the redundancy rules, before running a tool call, whether it would repeat an earlier call
   * of this session (same file and range read with nothing changed since, same search, same failing
   * command, same URL). The harness can warn, or reuse the earlier result instead of calling again.
   * @example const dup = hm.checkRedundancy({ name: 'Read', args }); if (dup?.kind === 're_read') return cached(dup.repeatsCallId);
   */
  checkRedundancy(request: ToolRequest): RedundancyWarning | undefined;
  /**
   * Marks a context compaction (the harness summarized or dropped earlier turns): reading a file
   * again after it is not waste, and earlier results stop costing "context rent".
   */
  markCompaction(): void;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null;
const isPromise = (v: unknown): v is Promise<unknown> =>
  isObj(v) && typeof (v as { then?: unknown }).then === 'function';

/** Attributes for a normalized usage. */
export function usageAttributes(u: Usage): Attributes {
  const a: Attributes = {
    [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: u.inputTokens,
    [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: u.outputTokens,
  };
  if (u.cacheReadTokens !== undefined)
    a[ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = u.cacheReadTokens;
  if (u.cacheCreationTokens !== undefined)
    a[ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = u.cacheCreationTokens;
  if (u.cacheCreation5mTokens !== undefined)
    a[ATTR_HM_USAGE_CACHE_CREATION_5M] = u.cacheCreation5mTokens;
  if (u.cacheCreation1hTokens !== undefined)
    a[ATTR_HM_USAGE_CACHE_CREATION_1H] = u.cacheCreation1hTokens;
  if (u.reasoningTokens !== undefined)
    a[ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = u.reasoningTokens;
  return a;
}

function responseAttributes(r: unknown): Attributes {
  const a: Attributes = {};
  if (!isObj(r)) return a;
  if (typeof r.model === 'string') a[ATTR_GEN_AI_RESPONSE_MODEL] = r.model;
  if (typeof r.id === 'string') a[ATTR_GEN_AI_RESPONSE_ID] = r.id;
  const reasons: string[] = [];
  if (typeof r.stop_reason === 'string') reasons.push(r.stop_reason); // Anthropic
  if (Array.isArray(r.choices))
    for (const c of r.choices)
      if (isObj(c) && typeof c.finish_reason === 'string') reasons.push(c.finish_reason); // OpenAI chat
  if (reasons.length > 0) a[ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = reasons;
  return a;
}

/** A monotonic nanosecond clock for ordering a session's calls in the SDK. */
let lastTick = 0n;
function clock(): bigint {
  const now = BigInt(Date.now()) * 1_000_000n;
  lastTick = now > lastTick ? now : lastTick + 1n;
  return lastTick;
}

const CALL_CLASSES: readonly string[] = ['read', 'write', 'search', 'exec', 'fetch', 'other'];

/** A tool call as the redundancy rules see it, from its attributes. */
function toSessionCall(request: ToolRequest, attrs: Attributes, id: string): SessionCall {
  const cls = String(attrs[ATTR_HM_TOOL_CLASS] ?? '');
  const call: SessionCall = {
    spanId: id,
    at: clock(),
    type: 'tool',
    toolName: request.name,
    toolClass: CALL_CLASSES.includes(cls) ? (cls as CallClass) : '',
    argsHash: String(attrs[ATTR_HM_TOOL_ARGS_HASH] ?? ''),
    targetHash: String(attrs[ATTR_HM_TOOL_TARGET_HASH] ?? ''),
  };
  const before = attrs[ATTR_HM_TOOL_EDIT_BEFORE_HASH];
  const after = attrs[ATTR_HM_TOOL_EDIT_AFTER_HASH];
  if (typeof before === 'string') call.beforeHash = before;
  if (typeof after === 'string') call.afterHash = after;
  const start = attrs[ATTR_HM_TOOL_RANGE_START];
  const end = attrs[ATTR_HM_TOOL_RANGE_END];
  if (typeof start === 'number') call.rangeStart = start;
  if (typeof end === 'number') call.rangeEnd = end;
  return call;
}

const errorType = (err: unknown): string =>
  err instanceof Error ? err.name || err.constructor.name : typeof err;

/** Creates the wrappers over a tracer. `startTelemetry` returns the same API. */
export function createHarnessTracer(options: HarnessTracerOptions = {}): HarnessTracer {
  const tracer = options.tracer ?? trace.getTracer('@harness-meter/instrumentation', '0.1.0');
  const capture = options.captureContent ?? false;
  const report =
    options.onError ?? ((e: unknown) => diag.warn('harness-meter: telemetry error', e));
  const safe = (f: () => void): void => {
    try {
      f();
    } catch (e) {
      report(e);
    }
  };

  /** Runs fn in span: ends it on return, on resolve, and on throw (recording the error, rethrowing it unchanged). */
  function run<T>(span: Span, fn: () => T, onResult: (r: Awaited<T>) => void): T {
    const fail = (err: unknown): void =>
      safe(() => {
        span.recordException(err instanceof Error ? err : String(err));
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: err instanceof Error ? err.message : String(err),
        });
        span.setAttribute(ATTR_ERROR_TYPE, errorType(err));
      });
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
      return result.then(
        (value) => {
          safe(() => onResult(value as Awaited<T>));
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
    safe(() => onResult(result as Awaited<T>));
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

  /** The attributes of a tool call that come from its request (hashes, class, range). */
  function toolAttributes(request: ToolRequest): Attributes {
    const attrs: Attributes = {
      [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION.executeTool,
      [ATTR_GEN_AI_TOOL_NAME]: request.name,
      [ATTR_HM_TOOL_CLASS]: request.toolClass ?? classifyTool(request.name),
    };
    if (request.callId) attrs[ATTR_GEN_AI_TOOL_CALL_ID] = request.callId;
    if (request.type) attrs[ATTR_GEN_AI_TOOL_TYPE] = request.type;
    safe(() => {
      if (request.args !== undefined) {
        const text = canonicalJson(normalizeArgs(request.args));
        attrs[ATTR_HM_TOOL_ARGS_HASH] = sha256Hex(text);
        attrs[ATTR_HM_TOOL_ARGS_BYTES] = Buffer.byteLength(text);
        if (capture) attrs[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS] = redact(canonicalJson(request.args));
      }
      const target = request.target ?? inferTarget(request.args);
      if (target !== undefined) attrs[ATTR_HM_TOOL_TARGET_HASH] = sha256Hex(target);
      const range = readRange(request.args);
      if (range) {
        attrs[ATTR_HM_TOOL_RANGE_START] = range.start;
        if (range.end !== undefined) attrs[ATTR_HM_TOOL_RANGE_END] = range.end;
      }
      const edit = editHashes(request.args);
      if (edit?.before) attrs[ATTR_HM_TOOL_EDIT_BEFORE_HASH] = edit.before;
      if (edit?.after) attrs[ATTR_HM_TOOL_EDIT_AFTER_HASH] = edit.after;
    });
    return attrs;
  }

  return {
    withSession(ctx, fn) {
      const session = createSession(ctx, ctx.sessionId ?? randomUUID());
      const parent = withSessionContext(context.active(), session);
      const agent = ctx.agentName ?? '';
      const span = tracer.startSpan(
        spanNameForAgent(agent),
        {
          kind: SpanKind.INTERNAL,
          attributes: {
            [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION.invokeAgent,
            ...(agent ? { [ATTR_GEN_AI_AGENT_NAME]: agent } : {}),
            ...session.attributes(),
          },
        },
        parent,
      );
      return context.with(parent, () =>
        run(
          span,
          () => fn(session),
          () => undefined,
        ),
      );
    },

    llmCall(request, fn, opts) {
      const operation = request.operation ?? GEN_AI_OPERATION.chat;
      const span = tracer.startSpan(spanNameForInference(operation, request.model), {
        kind: SpanKind.CLIENT,
        attributes: {
          ...sessionAttributes(),
          [ATTR_GEN_AI_OPERATION_NAME]: operation,
          [ATTR_GEN_AI_PROVIDER_NAME]: request.provider,
          [ATTR_GEN_AI_REQUEST_MODEL]: request.model,
        },
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
            }
          }),
        recordResponse: (response) => safe(() => span.setAttributes(responseAttributes(response))),
      };
      return run(
        span,
        () => fn(handle),
        (result) => {
          handle.recordResponse(result);
          if (!usageRecorded)
            handle.recordUsage(
              opts?.usage ? opts.usage(result) : isObj(result) ? result.usage : undefined,
            );
        },
      );
    },

    toolCall<T>(request: ToolRequest, fn: () => T, opts?: ToolCallOptions<Awaited<T>>): T {
      const attrs: Attributes = { ...sessionAttributes(), ...toolAttributes(request) };
      const span = tracer.startSpan(spanNameForTool(request.name), {
        kind: SpanKind.INTERNAL,
        attributes: attrs,
      });
      const session = activeSession();
      const call = toSessionCall(request, attrs, request.callId ?? span.spanContext().spanId);
      const remember = (result: unknown, failed: boolean): void =>
        safe(() => {
          if (!session) return;
          call.end = clock();
          call.isError = failed;
          call.resultTokens = failed ? 0 : estimateTokens(Buffer.byteLength(resultText(result)));
          session.record(call);
        });
      const tracked = (): T => {
        let r: T;
        try {
          r = fn();
        } catch (err) {
          remember(undefined, true);
          throw err;
        }
        if (isPromise(r)) {
          return r.then(
            (v) => {
              remember(v, opts?.isError?.(v as Awaited<T>) === true);
              return v;
            },
            (err: unknown) => {
              remember(undefined, true);
              throw err;
            },
          ) as T;
        }
        remember(r, opts?.isError?.(r as Awaited<T>) === true);
        return r;
      };
      return run(span, tracked, (result) => {
        const text = resultText(result);
        const bytes = Buffer.byteLength(text);
        span.setAttributes({
          [ATTR_HM_TOOL_RESULT_BYTES]: bytes,
          [ATTR_HM_TOOL_RESULT_TOKENS]: estimateTokens(bytes),
          [ATTR_HM_TOOL_RESULT_HASH]: sha256Hex(text),
        });
        if (capture) span.setAttribute(ATTR_GEN_AI_TOOL_CALL_RESULT, redact(text));
        if (opts?.isError?.(result)) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: 'the tool reported an error' });
          span.setAttribute(ATTR_ERROR_TYPE, 'tool_error');
          span.setAttribute(ATTR_HM_TOOL_ERROR, 'true');
        }
      });
    },

    checkRedundancy(request) {
      try {
        const session = activeSession();
        if (!session) return undefined;
        const candidate = toSessionCall(request, toolAttributes(request), '\u0000candidate');
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
        tracer
          .startSpan('context_compaction', {
            kind: SpanKind.INTERNAL,
            attributes: { ...sessionAttributes(), [ATTR_HM_CONTEXT_COMPACTION]: 'true' },
          })
          .end(),
      );
    },
  };
}
