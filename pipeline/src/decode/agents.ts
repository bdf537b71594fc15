/**
 * Telemetry that coding agents emit by themselves, as OTLP log events, mapped to the same span
 * attributes the SDK writes (GenAI semantic conventions + harness_meter.*), so that one derivation
 * (toSpanRecord) serves both. Raw content in events (tool parameters, prompt text) is hashed or
 * dropped here: it is never stored.
 */
import { parse as parseShell } from 'shell-quote';
import {
  canonicalJson,
  classifyTool,
  describeToolCall,
  inferTarget,
  isTransientFailure,
  normalizeArgs,
  readRange,
  sha256Hex,
  type ShellToken,
} from '@harness-meter/instrumentation';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_HM_REPORTED_COST_USD,
  ATTR_HM_SOURCE,
  ATTR_HM_TOOL_ARGS_BYTES,
  ATTR_HM_TOOL_ARGS_HASH,
  ATTR_HM_TOOL_CLASS,
  ATTR_HM_TOOL_ERROR,
  ATTR_HM_TOOL_ERROR_TRANSIENT,
  ATTR_HM_TOOL_RANGE_END,
  ATTR_HM_TOOL_RANGE_START,
  ATTR_HM_TOOL_TARGET_HASH,
  ATTR_HM_TOOL_TARGET_HASHES,
  ATTR_HM_TOOL_MUTATES,
  ATTR_HM_TOOL_TOUCHES,
  ATTR_HM_TOOL_EDIT_BEFORE_HASH,
  ATTR_HM_TOOL_EDIT_AFTER_HASH,
  ATTR_USER_EMAIL,
  ATTR_USER_ID,
} from '@harness-meter/instrumentation/semconv';

/** What one agent event becomes: a span-like record, or nothing (ignored, with a reason). */
export type MappedEvent =
  | {
      kind: 'llm' | 'tool' | 'turn' | 'context';
      name: string;
      durationMs: number;
      attributes: Record<string, string>;
      dropKeys: string[];
    }
  | { kind: 'ignored'; reason: string };

const int = (v: string | undefined): number => {
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? Math.trunc(n) : 0;
};

/**
 * A token count of an event: absent is 0; a non-negative integer as such; anything else NaN, which
 * the derivation refuses (the event is rejected with a reason, never stored as 0 tokens).
 */
const tokens = (v: string | undefined): number => {
  if (v === undefined || v === '') return 0;
  const n = Number(v);
  return /^\d+(?:\.\d*)?(?:[eE][+-]?\d+)?$/.test(v) && Number.isInteger(n) ? n : NaN;
};

/** Attributes Claude Code puts on every event that harness-meter maps to the conventions. */
function claudeCodeCommon(a: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = { [ATTR_HM_SOURCE]: 'claude-code' };
  if (a['session.id']) out[ATTR_GEN_AI_CONVERSATION_ID] = a['session.id'];
  if (a['user.email']) out[ATTR_USER_EMAIL] = a['user.email'];
  if (a['user.account_uuid'] && !a['user.id'])
    out[ATTR_USER_ID] = a['user.email'] || a['user.account_uuid'];
  return out;
}

/**
 * The shell parser of the pipeline: `shell-quote` (maintained, widely used), variables kept as
 * written. Its tokens have the shape the SDK's built-in lexer produces.
 */
export function shellParse(command: string): ShellToken[] {
  return parseShell(command, (key) => `$${key}`);
}

/** Tool parameters (a JSON string when tool-detail logging is on) → the SDK's hashes. */
function toolParameterAttributes(
  toolName: string,
  params: string | undefined,
): Record<string, string> {
  if (!params) return { [ATTR_HM_TOOL_CLASS]: classifyTool(toolName) };
  let args: unknown;
  try {
    args = JSON.parse(params);
  } catch {
    args = params;
  }
  return toolArgsAttributes(toolName, args);
}

/**
 * A tool's arguments (already parsed) → its class and the SDK's hashes: normalized-args hash and
 * size, target hash, read range. The arguments themselves are never returned.
 */
export function toolArgsAttributes(toolName: string, args: unknown): Record<string, string> {
  const out: Record<string, string> = { [ATTR_HM_TOOL_CLASS]: classifyTool(toolName) };
  const shape = describeToolCall(toolName, args, { parse: shellParse });
  if (shape) {
    // The per-tool schema and shell model the SDK uses (no cwd is known here: paths stay as given).
    const text = canonicalJson(shape.key);
    out[ATTR_HM_TOOL_CLASS] = shape.cls;
    out[ATTR_HM_TOOL_ARGS_HASH] = sha256Hex(text);
    out[ATTR_HM_TOOL_ARGS_BYTES] = String(Buffer.byteLength(text));
    if (shape.target !== undefined) out[ATTR_HM_TOOL_TARGET_HASH] = sha256Hex(shape.target);
    if (shape.range) {
      out[ATTR_HM_TOOL_RANGE_START] = String(shape.range.start);
      if (shape.range.end !== undefined) out[ATTR_HM_TOOL_RANGE_END] = String(shape.range.end);
    }
    if (shape.targets?.length)
      out[ATTR_HM_TOOL_TARGET_HASHES] = shape.targets.map((t) => sha256Hex(t)).join(',');
    if (shape.mutates) out[ATTR_HM_TOOL_MUTATES] = shape.mutates;
    if (shape.touches?.length)
      out[ATTR_HM_TOOL_TOUCHES] = shape.touches.map((t) => sha256Hex(t)).join(',');
    if (shape.edit?.before) out[ATTR_HM_TOOL_EDIT_BEFORE_HASH] = shape.edit.before;
    if (shape.edit?.after) out[ATTR_HM_TOOL_EDIT_AFTER_HASH] = shape.edit.after;
    return out;
  }
  const text = canonicalJson(normalizeArgs(args));
  out[ATTR_HM_TOOL_ARGS_HASH] = sha256Hex(text);
  out[ATTR_HM_TOOL_ARGS_BYTES] = String(Buffer.byteLength(text));
  const target = inferTarget(args);
  if (target !== undefined) out[ATTR_HM_TOOL_TARGET_HASH] = sha256Hex(target);
  const range = readRange(args);
  if (range) {
    out[ATTR_HM_TOOL_RANGE_START] = String(range.start);
    if (range.end !== undefined) out[ATTR_HM_TOOL_RANGE_END] = String(range.end);
  }
  return out;
}

/** A tool call event: name, success, duration; parameters hashed (never stored); raw keys dropped. */
function toolEvent(
  common: Record<string, string>,
  tool: string,
  a: Record<string, string>,
  params: string | undefined,
  callId: string | undefined,
  dropKeys: string[],
): MappedEvent {
  const failed = a.success === 'false';
  return {
    kind: 'tool',
    name: `execute_tool ${tool}`,
    durationMs: int(a.duration_ms),
    attributes: {
      ...common,
      [ATTR_GEN_AI_OPERATION_NAME]: 'execute_tool',
      [ATTR_GEN_AI_TOOL_NAME]: tool,
      ...(callId ? { [ATTR_GEN_AI_TOOL_CALL_ID]: callId } : {}),
      ...toolParameterAttributes(tool, params),
      ...(failed ? { [ATTR_HM_TOOL_ERROR]: 'true', [ATTR_ERROR_TYPE]: 'tool_error' } : {}),
      // only the verdict is kept: the error text is dropped with the raw keys
      ...(failed && isTransientFailure(a.error ?? '')
        ? { [ATTR_HM_TOOL_ERROR_TRANSIENT]: 'true' }
        : {}),
    },
    dropKeys,
  };
}

/**
 * Claude Code's events (CLAUDE_CODE_ENABLE_TELEMETRY=1, OTEL_LOGS_EXPORTER=otlp). Names from its
 * monitoring documentation (see ../shared/docs/wire-formats.md): its `input_tokens` follows
 * Anthropic's meaning (cache excluded), so the conventions' input = input + cache read + cache creation.
 */
export function mapClaudeCode(event: string, a: Record<string, string>): MappedEvent {
  const common = claudeCodeCommon(a);
  switch (event) {
    case 'claude_code.api_request': {
      const fresh = tokens(a.input_tokens);
      const read = tokens(a.cache_read_tokens);
      const write = tokens(a.cache_creation_tokens);
      const model = a.model ?? '';
      if (!model) return { kind: 'ignored', reason: 'claude_code.api_request without model' };
      return {
        kind: 'llm',
        name: `chat ${model}`,
        durationMs: int(a.duration_ms),
        attributes: {
          ...common,
          [ATTR_GEN_AI_OPERATION_NAME]: 'chat',
          [ATTR_GEN_AI_PROVIDER_NAME]: 'anthropic',
          [ATTR_GEN_AI_REQUEST_MODEL]: model,
          [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: String(fresh + read + write),
          [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: String(tokens(a.output_tokens)),
          [ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: String(read),
          [ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS]: String(write),
          ...(a.cost_usd ? { [ATTR_HM_REPORTED_COST_USD]: a.cost_usd } : {}),
        },
        dropKeys: [],
      };
    }
    case 'claude_code.tool_result': {
      const tool = a.tool_name ?? '';
      if (!tool) return { kind: 'ignored', reason: 'claude_code.tool_result without tool_name' };
      // Tool parameters and error text may hold code, paths and secrets: hashed, not stored.
      return toolEvent(common, tool, a, a.tool_parameters, undefined, ['tool_parameters', 'error']);
    }
    case 'claude_code.user_prompt':
      return {
        kind: 'turn',
        name: 'user_prompt',
        durationMs: 0,
        attributes: common,
        dropKeys: ['prompt'],
      };
    case 'claude_code.api_error':
    case 'claude_code.tool_decision':
      return { kind: 'ignored', reason: `${event} carries no usage` };
    default:
      return { kind: 'ignored', reason: `unknown event ${JSON.stringify(event)}` };
  }
}

/**
 * Codex CLI (`[otel]` in ~/.codex/config.toml). Usage arrives on `codex.sse_event` with
 * `event.kind=response.completed`: OpenAI Responses API counts, where input includes cached tokens
 * and output includes reasoning. Session: `conversation.id`.
 */
export function mapCodex(event: string, a: Record<string, string>): MappedEvent {
  const common: Record<string, string> = { [ATTR_HM_SOURCE]: 'codex' };
  if (a['conversation.id']) common[ATTR_GEN_AI_CONVERSATION_ID] = a['conversation.id'];
  if (a['user.email']) common[ATTR_USER_EMAIL] = a['user.email'];
  if (a['user.account_id']) common[ATTR_USER_ID] = a['user.email'] || a['user.account_id'];
  switch (event) {
    case 'codex.sse_event': {
      if (a['event.kind'] !== 'response.completed')
        return { kind: 'ignored', reason: 'codex.sse_event without usage' };
      const model = a.model ?? '';
      if (!model) return { kind: 'ignored', reason: 'codex.sse_event without model' };
      return {
        kind: 'llm',
        name: `chat ${model}`,
        durationMs: int(a.duration_ms),
        attributes: {
          ...common,
          [ATTR_GEN_AI_OPERATION_NAME]: 'chat',
          [ATTR_GEN_AI_PROVIDER_NAME]: 'openai',
          [ATTR_GEN_AI_REQUEST_MODEL]: model,
          [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: String(tokens(a.input_token_count)),
          [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: String(tokens(a.output_token_count)),
          [ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: String(tokens(a.cached_token_count)),
          [ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS]: String(tokens(a.reasoning_token_count)),
        },
        dropKeys: [],
      };
    }
    case 'codex.tool_result': {
      const tool = a.tool_name ?? '';
      if (!tool) return { kind: 'ignored', reason: 'codex.tool_result without tool_name' };
      return toolEvent(common, tool, a, a.arguments, a.call_id, ['arguments', 'output']);
    }
    case 'codex.user_prompt':
      return {
        kind: 'turn',
        name: 'user_prompt',
        durationMs: 0,
        attributes: common,
        dropKeys: ['prompt'],
      };
    default:
      return { kind: 'ignored', reason: `${event} carries no usage` };
  }
}

/**
 * Gemini CLI (`telemetry` in settings). `gemini_cli.api_response` counts follow the Gemini API:
 * input includes cached content; output EXCLUDES thinking tokens, which are billed as output, so the
 * conventions' output = output + thoughts. Session: `session.id`.
 */
export function mapGeminiCli(event: string, a: Record<string, string>): MappedEvent {
  const common: Record<string, string> = { [ATTR_HM_SOURCE]: 'gemini-cli' };
  if (a['session.id']) common[ATTR_GEN_AI_CONVERSATION_ID] = a['session.id'];
  if (a['user.email']) common[ATTR_USER_EMAIL] = a['user.email'];
  switch (event) {
    case 'gemini_cli.api_response': {
      const model = a.model ?? '';
      if (!model) return { kind: 'ignored', reason: 'gemini_cli.api_response without model' };
      const thoughts = tokens(a.thoughts_token_count);
      return {
        kind: 'llm',
        name: `generate_content ${model}`,
        durationMs: int(a.duration_ms),
        attributes: {
          ...common,
          [ATTR_GEN_AI_OPERATION_NAME]: 'generate_content',
          [ATTR_GEN_AI_PROVIDER_NAME]: 'gcp.gemini',
          [ATTR_GEN_AI_REQUEST_MODEL]: model,
          [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: String(tokens(a.input_token_count)),
          [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: String(tokens(a.output_token_count) + thoughts),
          [ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: String(tokens(a.cached_content_token_count)),
          [ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS]: String(thoughts),
        },
        dropKeys: ['response_text'],
      };
    }
    case 'gemini_cli.tool_call': {
      const tool = a.function_name ?? '';
      if (!tool) return { kind: 'ignored', reason: 'gemini_cli.tool_call without function_name' };
      return toolEvent(common, tool, a, a.function_args, undefined, ['function_args', 'error']);
    }
    case 'gemini_cli.user_prompt':
      return {
        kind: 'turn',
        name: 'user_prompt',
        durationMs: 0,
        attributes: common,
        dropKeys: ['prompt'],
      };
    default:
      return { kind: 'ignored', reason: `${event} carries no usage` };
  }
}

/** The event `harness-meter stamp` sends: the repository, branch, commit and PR a session works on now. */
export const SESSION_CONTEXT_EVENT = 'harness_meter.session_context';

export function mapSessionContext(_event: string, a: Record<string, string>): MappedEvent {
  if (!a['session.id'])
    return { kind: 'ignored', reason: `${SESSION_CONTEXT_EVENT} without session.id` };
  return {
    kind: 'context',
    name: 'session_context',
    durationMs: 0,
    attributes: { [ATTR_GEN_AI_CONVERSATION_ID]: a['session.id'], [ATTR_HM_SOURCE]: 'stamp' },
    dropKeys: [],
  };
}

/** The mapper for an event, by its prefix; undefined for events of no known agent. */
export function agentMapper(
  event: string,
): ((event: string, a: Record<string, string>) => MappedEvent) | undefined {
  if (event.startsWith('claude_code.')) return mapClaudeCode;
  if (event.startsWith('codex.')) return mapCodex;
  if (event.startsWith('gemini_cli.')) return mapGeminiCli;
  if (event === SESSION_CONTEXT_EVENT) return mapSessionContext;
  return undefined;
}
