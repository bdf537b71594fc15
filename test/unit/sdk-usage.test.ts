import { describe, expect, it } from 'vitest';
import {
  fromAnthropicUsage,
  fromGeminiUsage,
  fromOpenAIUsage,
  normalizeUsage,
  usageAttributes,
} from '@harness-meter/instrumentation';

describe('provider usage → GenAI conventions (input INCLUDES cache, output INCLUDES reasoning)', () => {
  it('Anthropic: input_tokens excludes cache, so cache reads and writes are added; 5m/1h split kept', () => {
    const anthropic = {
      input_tokens: 100,
      output_tokens: 50,
      cache_read_input_tokens: 800,
      cache_creation_input_tokens: 300,
      cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 100 },
      service_tier: 'standard',
    };
    const expected = {
      inputTokens: 1200,
      outputTokens: 50,
      cacheReadTokens: 800,
      cacheCreationTokens: 300,
      cacheCreation5mTokens: 200,
      cacheCreation1hTokens: 100,
    };
    expect(fromAnthropicUsage(anthropic)).toEqual(expected);
    expect(normalizeUsage(anthropic)).toEqual(expected);
    expect(usageAttributes(expected)).toEqual({
      'gen_ai.usage.input_tokens': 1200,
      'gen_ai.usage.output_tokens': 50,
      'gen_ai.usage.cache_read.input_tokens': 800,
      'gen_ai.usage.cache_creation.input_tokens': 300,
      'harness_meter.usage.cache_creation_5m.input_tokens': 200,
      'harness_meter.usage.cache_creation_1h.input_tokens': 100,
    });
  });

  it('Anthropic: server-side web searches are kept (billed per search), as an attribute', () => {
    const u = fromAnthropicUsage({
      input_tokens: 10,
      output_tokens: 5,
      server_tool_use: { web_search_requests: 3 },
    });
    expect(u).toEqual({
      inputTokens: 10,
      outputTokens: 5,
      cacheReadTokens: 0,
      cacheCreationTokens: 0,
      webSearchRequests: 3,
    });
    expect(usageAttributes(u)['harness_meter.usage.web_search_requests']).toBe(3);
    expect(fromAnthropicUsage({ input_tokens: 1, output_tokens: 1 }).webSearchRequests).toBe(
      undefined,
    );
    // A Message Batches result says so in its usage; the pipeline then applies the batch rule.
    const batch = fromAnthropicUsage({ input_tokens: 1, output_tokens: 1, service_tier: 'batch' });
    expect(usageAttributes(batch)['harness_meter.service_tier']).toBe('batch');
    expect(
      usageAttributes(
        fromAnthropicUsage({ input_tokens: 1, output_tokens: 1, service_tier: 'standard' }),
      )['harness_meter.service_tier'],
    ).toBe(undefined);
  });

  it('Anthropic: the total write is the sum of the split when only the split is given; no split, no split attributes', () => {
    expect(
      normalizeUsage({
        input_tokens: 5,
        output_tokens: 1,
        cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 40 },
      }),
    ).toEqual({
      inputTokens: 45,
      outputTokens: 1,
      cacheReadTokens: 0,
      cacheCreationTokens: 40,
      cacheCreation5mTokens: 0,
      cacheCreation1hTokens: 40,
    });
    expect(
      normalizeUsage({ input_tokens: 5, output_tokens: 1, cache_read_input_tokens: 10 }),
    ).toEqual({ inputTokens: 15, outputTokens: 1, cacheReadTokens: 10, cacheCreationTokens: 0 });
  });

  it('OpenAI Chat Completions: prompt_tokens already includes cached_tokens; reasoning is inside completion_tokens', () => {
    const chat = {
      prompt_tokens: 1000,
      completion_tokens: 300,
      total_tokens: 1300,
      prompt_tokens_details: { cached_tokens: 600, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 200, audio_tokens: 0 },
    };
    const expected = {
      inputTokens: 1000,
      outputTokens: 300,
      cacheReadTokens: 600,
      reasoningTokens: 200,
    };
    expect(fromOpenAIUsage(chat)).toEqual(expected);
    expect(normalizeUsage(chat)).toEqual(expected);
  });

  it('OpenAI Responses API: input_tokens already includes cached_tokens; reasoning inside output_tokens', () => {
    expect(
      normalizeUsage({
        input_tokens: 1000,
        output_tokens: 300,
        total_tokens: 1300,
        input_tokens_details: { cached_tokens: 600 },
        output_tokens_details: { reasoning_tokens: 200 },
      }),
    ).toEqual({ inputTokens: 1000, outputTokens: 300, cacheReadTokens: 600, reasoningTokens: 200 });
  });

  it('Gemini: promptTokenCount includes cached content; thoughts are added to output', () => {
    const gemini = {
      promptTokenCount: 900,
      candidatesTokenCount: 100,
      cachedContentTokenCount: 500,
      thoughtsTokenCount: 250,
      totalTokenCount: 1250,
    };
    expect(fromGeminiUsage(gemini)).toEqual({
      inputTokens: 900,
      outputTokens: 350,
      cacheReadTokens: 500,
      reasoningTokens: 250,
    });
    expect(normalizeUsage(gemini)).toEqual(fromGeminiUsage(gemini));
  });

  it('accepts normalized usage (checked), rejects what it does not recognize', () => {
    expect(normalizeUsage({ inputTokens: 10, outputTokens: 2, cacheReadTokens: 4 })).toEqual({
      inputTokens: 10,
      outputTokens: 2,
      cacheReadTokens: 4,
    });
    expect(normalizeUsage({ inputTokens: Number.NaN, outputTokens: 2 })).toBeUndefined();
    expect(normalizeUsage({ inputTokens: -1, outputTokens: 2 })).toBeUndefined();
    expect(normalizeUsage('nope')).toBeUndefined();
    expect(normalizeUsage(null)).toBeUndefined();
    expect(normalizeUsage({ tokens: 5 })).toBeUndefined();
    // Garbage counts inside a known shape become 0, never NaN or negative.
    expect(normalizeUsage({ prompt_tokens: 'x', completion_tokens: -3 })).toEqual({
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
    });
  });
});
