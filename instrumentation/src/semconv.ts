/**
 * Attribute and span names harness-meter writes and reads.
 *
 * The `gen_ai.*` names follow the OpenTelemetry GenAI semantic conventions, which are still
 * marked *Development* (late 2026): they may change, so every name used anywhere in
 * harness-meter is copied here once, and both the SDK and the pipeline import it from here.
 * `vcs.*`, `user.*`, `session.*` and `error.type` are the general semantic conventions.
 * Everything harness-meter needs that the conventions do not name lives in the one extension
 * namespace `harness_meter.*` (documented in the README).
 */

/** Instrumentation scope of the spans the SDK's wrappers make. */
export const INSTRUMENTATION_NAME = '@harness-meter/instrumentation';
export const INSTRUMENTATION_VERSION = '0.1.0';

// --- GenAI: operation, provider, model (Development) ---
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
/** Deprecated predecessor of gen_ai.provider.name; still accepted on input. */
export const ATTR_GEN_AI_SYSTEM = 'gen_ai.system';
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
export const ATTR_GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model';
export const ATTR_GEN_AI_RESPONSE_ID = 'gen_ai.response.id';
export const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = 'gen_ai.response.finish_reasons';

// --- GenAI: usage (Development). input_tokens INCLUDES cached tokens. ---
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
export const ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = 'gen_ai.usage.cache_read.input_tokens';
export const ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS =
  'gen_ai.usage.cache_creation.input_tokens';
export const ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = 'gen_ai.usage.reasoning.output_tokens';
/** Older producers; accepted on input, never written. */
export const ATTR_GEN_AI_USAGE_PROMPT_TOKENS = 'gen_ai.usage.prompt_tokens';
export const ATTR_GEN_AI_USAGE_COMPLETION_TOKENS = 'gen_ai.usage.completion_tokens';

// --- GenAI: tools, agents, sessions (Development) ---
export const ATTR_GEN_AI_TOOL_NAME = 'gen_ai.tool.name';
export const ATTR_GEN_AI_TOOL_CALL_ID = 'gen_ai.tool.call.id';
export const ATTR_GEN_AI_TOOL_TYPE = 'gen_ai.tool.type';
export const ATTR_GEN_AI_TOOL_DESCRIPTION = 'gen_ai.tool.description';
/** Opt-in content; harness-meter writes it only when content capture is enabled, redacted. */
export const ATTR_GEN_AI_TOOL_CALL_ARGUMENTS = 'gen_ai.tool.call.arguments';
export const ATTR_GEN_AI_TOOL_CALL_RESULT = 'gen_ai.tool.call.result';
export const ATTR_GEN_AI_CONVERSATION_ID = 'gen_ai.conversation.id';
export const ATTR_GEN_AI_AGENT_ID = 'gen_ai.agent.id';
export const ATTR_GEN_AI_AGENT_NAME = 'gen_ai.agent.name';

/** Values of gen_ai.operation.name. */
export const GEN_AI_OPERATION = {
  chat: 'chat',
  textCompletion: 'text_completion',
  generateContent: 'generate_content',
  embeddings: 'embeddings',
  executeTool: 'execute_tool',
  invokeAgent: 'invoke_agent',
  createAgent: 'create_agent',
} as const;

/** Operations whose spans are model inference calls (priced). */
export const GEN_AI_INFERENCE_OPERATIONS: readonly string[] = [
  GEN_AI_OPERATION.chat,
  GEN_AI_OPERATION.textCompletion,
  GEN_AI_OPERATION.generateContent,
  GEN_AI_OPERATION.embeddings,
];

// --- General semantic conventions (Stable unless noted) ---
export const ATTR_ERROR_TYPE = 'error.type';
export const ATTR_SERVICE_NAME = 'service.name';
export const ATTR_SESSION_ID = 'session.id'; // Development
export const ATTR_USER_ID = 'user.id'; // Development
export const ATTR_USER_EMAIL = 'user.email'; // Development
export const ATTR_USER_NAME = 'user.name'; // Development

// --- VCS semantic conventions (Development) ---
export const ATTR_VCS_REPOSITORY_URL_FULL = 'vcs.repository.url.full';
export const ATTR_VCS_REPOSITORY_NAME = 'vcs.repository.name';
export const ATTR_VCS_OWNER_NAME = 'vcs.owner.name';
export const ATTR_VCS_REF_HEAD_NAME = 'vcs.ref.head.name';
export const ATTR_VCS_REF_HEAD_REVISION = 'vcs.ref.head.revision';
export const ATTR_VCS_REF_BASE_NAME = 'vcs.ref.base.name';
export const ATTR_VCS_CHANGE_ID = 'vcs.change.id';
export const ATTR_VCS_CHANGE_STATE = 'vcs.change.state';
export const ATTR_VCS_PROVIDER_NAME = 'vcs.provider.name';

// --- harness-meter extension namespace ---
export const HM_NAMESPACE = 'harness_meter';
/** Team the developer belongs to. */
export const ATTR_HM_TEAM = 'harness_meter.team';
/** What the session is for: implement, fix, review, explore, test, ... (free text, low cardinality). */
export const ATTR_HM_TASK_INTENT = 'harness_meter.task.intent';
/** Who produced the telemetry: 'sdk', 'claude-code', 'codex', 'gemini-cli', ... */
export const ATTR_HM_SOURCE = 'harness_meter.source';
/** Tool class: read | write | search | exec | fetch | other. */
export const ATTR_HM_TOOL_CLASS = 'harness_meter.tool.class';
/** sha256 (hex) of the normalized, canonical-JSON tool arguments. */
export const ATTR_HM_TOOL_ARGS_HASH = 'harness_meter.tool.args_hash';
/** Byte size of the canonical-JSON tool arguments. */
export const ATTR_HM_TOOL_ARGS_BYTES = 'harness_meter.tool.args_bytes';
/** sha256 (hex) of the normalized target: a path, query, command or URL. */
export const ATTR_HM_TOOL_TARGET_HASH = 'harness_meter.tool.target_hash';
/** Byte size of the tool result (UTF-8). */
export const ATTR_HM_TOOL_RESULT_BYTES = 'harness_meter.tool.result_bytes';
/** Estimated token count of the tool result (what it costs when it enters the context). */
export const ATTR_HM_TOOL_RESULT_TOKENS = 'harness_meter.tool.result_tokens';
/** sha256 (hex) of the tool result; lets the pipeline see identical results without content. */
export const ATTR_HM_TOOL_RESULT_HASH = 'harness_meter.tool.result_hash';
/** First and last line a read covered (inclusive), when the arguments say (offset/limit, start/end line). */
export const ATTR_HM_TOOL_RANGE_START = 'harness_meter.tool.range.start';
export const ATTR_HM_TOOL_RANGE_END = 'harness_meter.tool.range.end';
/** An edit's before and after content hashes (sha256 of old_string/new_string, or of a written file's content). */
export const ATTR_HM_TOOL_EDIT_BEFORE_HASH = 'harness_meter.tool.edit.before_hash';
export const ATTR_HM_TOOL_EDIT_AFTER_HASH = 'harness_meter.tool.edit.after_hash';
/** Further files a call reads whole or writes (read_many_files, `cat a b`, multi-file patches): sha256 hashes, comma-separated. */
export const ATTR_HM_TOOL_TARGET_HASHES = 'harness_meter.tool.target_hashes';
/** Shell runs: `none` (reads, tests, builds), `paths` (writes only the files in `touches`) or `all` (may change anything). */
export const ATTR_HM_TOOL_MUTATES = 'harness_meter.tool.mutates';
/** The files a `paths` mutation writes: sha256 hashes of the resolved paths, comma-separated. */
export const ATTR_HM_TOOL_TOUCHES = 'harness_meter.tool.touches';
/** 'true' on the span that marks a context compaction: earlier tool results left the context. */
export const ATTR_HM_CONTEXT_COMPACTION = 'harness_meter.context.compaction';
/** 'true' when the tool call failed (also reflected in span status and error.type). */
export const ATTR_HM_TOOL_ERROR = 'harness_meter.tool.error';
/** 'true' when the failure looks transient (timeout, connection reset, HTTP 429/502/503/504): one retry is not a loop. */
export const ATTR_HM_TOOL_ERROR_TRANSIENT = 'harness_meter.tool.error.transient';
/** Anthropic cache writes split by TTL (sum = gen_ai.usage.cache_creation.input_tokens). */
export const ATTR_HM_USAGE_CACHE_CREATION_5M = 'harness_meter.usage.cache_creation_5m.input_tokens';
export const ATTR_HM_USAGE_CACHE_CREATION_1H = 'harness_meter.usage.cache_creation_1h.input_tokens';
/** The processing tier a call was billed at when not the standard one: `batch`, `flex` or `priority`. */
export const ATTR_HM_SERVICE_TIER = 'harness_meter.service_tier';
/** Server-side web searches the call made (Anthropic `usage.server_tool_use.web_search_requests`); billed per search. */
export const ATTR_HM_USAGE_WEB_SEARCH_REQUESTS = 'harness_meter.usage.web_search_requests';
/** A cost the producer reported itself (USD, decimal string), kept beside the computed cost. */
export const ATTR_HM_REPORTED_COST_USD = 'harness_meter.reported_cost_usd';

/** Span names, per the GenAI conventions. */
export const spanNameForInference = (operation: string, model: string): string =>
  model ? `${operation} ${model}` : operation;
export const spanNameForTool = (tool: string): string => `execute_tool ${tool}`;
export const spanNameForAgent = (agent: string): string =>
  agent ? `invoke_agent ${agent}` : 'invoke_agent';
