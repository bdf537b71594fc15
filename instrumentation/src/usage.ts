/**
 * Token usage in the GenAI semantic conventions' terms: `inputTokens` INCLUDES cached tokens
 * (reads and writes), `outputTokens` includes reasoning.
 */
import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_HM_USAGE_CACHE_CREATION_5M,
  ATTR_HM_USAGE_CACHE_CREATION_1H,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  ATTR_HM_USAGE_WEB_SEARCH_REQUESTS,
  ATTR_HM_SERVICE_TIER,
} from './semconv.js';
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  /** All cache writes. */
  cacheCreationTokens?: number;
  /** Anthropic: cache writes with the 5-minute TTL. */
  cacheCreation5mTokens?: number;
  /** Anthropic: cache writes with the 1-hour TTL. */
  cacheCreation1hTokens?: number;
  reasoningTokens?: number;
  /** Server-side web searches (Anthropic `server_tool_use.web_search_requests`), billed per search. */
  webSearchRequests?: number;
  /** A non-standard processing tier the provider reported (Anthropic `usage.service_tier`: `batch`, `priority`). */
  serviceTier?: 'batch' | 'flex' | 'priority';
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null;
const n = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.trunc(v) : undefined;

/**
 * Anthropic Messages API `usage`: its `input_tokens` EXCLUDES cache, so
 * input = input_tokens + cache_creation_input_tokens + cache_read_input_tokens.
 */
export function fromAnthropicUsage(u: Obj): Usage {
  const fresh = n(u.input_tokens) ?? 0;
  const read = n(u.cache_read_input_tokens) ?? 0;
  const split = isObj(u.cache_creation) ? u.cache_creation : undefined;
  const w5 = split ? (n(split.ephemeral_5m_input_tokens) ?? 0) : undefined;
  const w1 = split ? (n(split.ephemeral_1h_input_tokens) ?? 0) : undefined;
  const write = n(u.cache_creation_input_tokens) ?? (w5 ?? 0) + (w1 ?? 0);
  const out: Usage = {
    inputTokens: fresh + write + read,
    outputTokens: n(u.output_tokens) ?? 0,
    cacheReadTokens: read,
    cacheCreationTokens: write,
  };
  if (w5 !== undefined && w1 !== undefined) {
    out.cacheCreation5mTokens = w5;
    out.cacheCreation1hTokens = w1;
  }
  const searches = isObj(u.server_tool_use) ? n(u.server_tool_use.web_search_requests) : undefined;
  if (searches !== undefined && searches > 0) out.webSearchRequests = searches;
  if (u.service_tier === 'batch' || u.service_tier === 'priority') out.serviceTier = u.service_tier;
  return out;
}

/**
 * OpenAI `usage`, Chat Completions (`prompt_tokens`, `completion_tokens`) or Responses API
 * (`input_tokens`, `output_tokens`): both input counts INCLUDE `cached_tokens`, and output includes reasoning.
 */
export function fromOpenAIUsage(u: Obj): Usage {
  const chat = u.prompt_tokens !== undefined || u.completion_tokens !== undefined;
  const inDetails = isObj(chat ? u.prompt_tokens_details : u.input_tokens_details)
    ? ((chat ? u.prompt_tokens_details : u.input_tokens_details) as Obj)
    : {};
  const outDetails = isObj(chat ? u.completion_tokens_details : u.output_tokens_details)
    ? ((chat ? u.completion_tokens_details : u.output_tokens_details) as Obj)
    : {};
  const out: Usage = {
    inputTokens: n(chat ? u.prompt_tokens : u.input_tokens) ?? 0,
    outputTokens: n(chat ? u.completion_tokens : u.output_tokens) ?? 0,
    cacheReadTokens: n(inDetails.cached_tokens) ?? 0,
  };
  const reasoning = n(outDetails.reasoning_tokens);
  if (reasoning !== undefined) out.reasoningTokens = reasoning;
  return out;
}

/**
 * Gemini API `usageMetadata`: `promptTokenCount` INCLUDES `cachedContentTokenCount`;
 * `candidatesTokenCount` EXCLUDES thinking (`thoughtsTokenCount`), which is billed as output, so
 * output = candidates + thoughts.
 */
export function fromGeminiUsage(u: Obj): Usage {
  const thoughts = n(u.thoughtsTokenCount);
  const out: Usage = {
    inputTokens: n(u.promptTokenCount) ?? 0,
    outputTokens: (n(u.candidatesTokenCount) ?? 0) + (thoughts ?? 0),
    cacheReadTokens: n(u.cachedContentTokenCount) ?? 0,
  };
  if (thoughts !== undefined) out.reasoningTokens = thoughts;
  return out;
}

/** An already-normalized `Usage`, with its counts checked (non-negative integers). */
function checkedUsage(u: Obj): Usage | undefined {
  const input = n(u.inputTokens);
  const output = n(u.outputTokens);
  if (input === undefined || output === undefined) return undefined;
  const out: Usage = { inputTokens: input, outputTokens: output };
  const optional = [
    'cacheReadTokens',
    'cacheCreationTokens',
    'cacheCreation5mTokens',
    'cacheCreation1hTokens',
    'reasoningTokens',
    'webSearchRequests',
  ] as const;
  for (const k of optional) {
    const v = n(u[k]);
    if (v !== undefined) out[k] = v;
  }
  if (u.serviceTier === 'batch' || u.serviceTier === 'flex' || u.serviceTier === 'priority')
    out.serviceTier = u.serviceTier;
  return out;
}

/**
 * Maps a provider `usage` object to the conventions, telling the shapes apart by their fields
 * (no dependency on the providers' SDKs): Anthropic Messages, OpenAI Chat Completions, OpenAI
 * Responses, Gemini `usageMetadata`. Accepts an already-normalized `Usage` as well. Returns
 * undefined for anything it does not recognize.
 *
 * @example
 * normalizeUsage({ input_tokens: 10, cache_read_input_tokens: 90, output_tokens: 5 })
 * // → { inputTokens: 100, outputTokens: 5, cacheReadTokens: 90, cacheCreationTokens: 0 }
 */
export function normalizeUsage(usage: unknown): Usage | undefined {
  if (!isObj(usage)) return undefined;
  if ('inputTokens' in usage && 'outputTokens' in usage) return checkedUsage(usage);
  if (
    'prompt_tokens' in usage ||
    'completion_tokens' in usage ||
    'input_tokens_details' in usage ||
    'output_tokens_details' in usage ||
    'total_tokens' in usage
  )
    return fromOpenAIUsage(usage);
  if (
    'cache_creation_input_tokens' in usage ||
    'cache_read_input_tokens' in usage ||
    'cache_creation' in usage
  )
    return fromAnthropicUsage(usage);
  if ('promptTokenCount' in usage || 'candidatesTokenCount' in usage) return fromGeminiUsage(usage);
  if ('input_tokens' in usage && 'output_tokens' in usage) {
    // Both APIs use these names. Without cache fields, the two meanings coincide.
    return fromAnthropicUsage(usage);
  }
  return undefined;
}

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
  if (u.webSearchRequests !== undefined) a[ATTR_HM_USAGE_WEB_SEARCH_REQUESTS] = u.webSearchRequests;
  if (u.serviceTier !== undefined) a[ATTR_HM_SERVICE_TIER] = u.serviceTier;
  return a;
}
