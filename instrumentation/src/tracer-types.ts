/** The public types of the tracer's wrappers (createHarnessTracer in tracer.ts). */
import type { Span, Tracer, TracerProvider } from '@opentelemetry/api';
import type { ToolClass } from './hashing.js';
import type { WasteKind } from './rules.js';
import type { Session, SessionContext } from './session.js';
import type { ShellParser, ShellRule } from './shell.js';

export interface HarnessTracerOptions {
  /** Tracer to create spans with. Wins over `tracerProvider`. */
  tracer?: Tracer;
  /**
   * Provider to take the tracer from (scope `@harness-meter/instrumentation`). Default: the global
   * provider. Add a `SessionSpanProcessor` to it so spans of other instrumentations carry the session.
   */
  tracerProvider?: TracerProvider;
  /** Put redacted, truncated tool arguments and results on spans. Default false: hashes and sizes only. */
  captureContent?: boolean;
  /** Told about telemetry failures (which never reach the harness). Default: OpenTelemetry's diag logger. */
  onError?: (error: unknown) => void;
  /**
   * Shell parser for classifying commands (read, search, run, mutate). Default: a built-in lexer;
   * pass `shell-quote`'s `(c) => parse(c, (k) => '$' + k)` to use it instead.
   */
  shellParser?: ShellParser;
  /** The shell command table. Default `SHELL_COMMANDS`; spread it and add your own commands. */
  shellCommands?: Readonly<Record<string, ShellRule>>;
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
  /**
   * Records usage: a provider `usage` object (Anthropic, OpenAI, Gemini) or a normalized `Usage`.
   * The last recorded usage wins; once recorded, usage is not read from the result.
   */
  recordUsage(usage: unknown): void;
  /** Records response facts (model, id, finish reasons) from a provider response. */
  recordResponse(response: unknown): void;
}

export interface LlmCallOptions<R> {
  /**
   * Where the usage is in the result (a provider `usage` object or a normalized `Usage`);
   * default `result.usage` (Anthropic, OpenAI) or `result.usageMetadata` (Gemini).
   */
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
  /** The target (path, query, command, URL); inferred from args when absent. Only its hash is stored. */
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
   * Runs `fn` as one agent session (`invoke_agent {agentName}` span); every span started inside,
   * by these wrappers or by any other instrumentation, carries the session context.
   * Returns what `fn` returns (a promise when `fn` is async).
   * @example
   * await hm.withSession({ agentName: 'coder', developer: 'ana', repositoryUrl, branch, pr: 12 }, async (session) => {
   *   // ... agent loop; later: session.update({ branch: 'fix/b', pr: 13 })
   * });
   */
  withSession<T>(ctx: SessionContext, fn: (session: Session) => T): T;
  /**
   * Runs one LLM call as a `{operation} {model}` span (kind CLIENT), reading usage (with cache
   * tokens) and response facts from the result. Returns what `fn` returns.
   * @example
   * const msg = await hm.llmCall({ provider: 'anthropic', model: 'claude-sonnet-4-5' }, () => client.messages.create(req));
   * // streaming: await hm.llmCall({ provider, model }, async (llm) => { ...; llm.recordUsage(finalUsage); });
   */
  llmCall<T>(request: LlmRequest, fn: (llm: LlmSpan) => T, options?: LlmCallOptions<Awaited<T>>): T;
  /**
   * Runs one tool call as an `execute_tool {name}` span with argument/target hashes and result
   * size. Returns what `fn` returns; a thrown error is recorded and rethrown unchanged.
   * @example
   * const text = await hm.toolCall({ name: 'Read', callId, args: { file_path } }, () => readFile(file_path, 'utf8'));
   * const run = await hm.toolCall({ name: 'Bash', args: { command } }, () => exec(command), { isError: (r) => r.exitCode !== 0 });
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
