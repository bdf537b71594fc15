import {
  orderCalls,
  type RawFinding,
  type SessionCall,
} from '@harness-meter/instrumentation/rules';

/** Per-token prices of one LLM call, integer pico-USD. */
export interface UnitPrices {
  input: bigint;
  cacheRead: bigint;
  /** Writing to the prompt cache (5-minute lifetime). @default the input price */
  cacheWrite?: bigint;
  output: bigint;
}

/** What an LLM call did with the prompt cache: tokens read from it and written to it. */
export interface CacheUse {
  readTokens: number;
  writeTokens: number;
}

/** A finding with its cost. */
export interface Finding extends RawFinding {
  /** Result tokens + the output tokens the model spent to issue the call. */
  wastedTokens: number;
  /** Output tokens attributed to issuing the call (its share of the issuing LLM call's output). */
  issueTokens: number;
  /**
   * Result tokens at what the next LLM call paid for them (cache-write price for the part it wrote
   * to the prompt cache, input price for the rest) + issue tokens × the issuing call's output price.
   */
  directCostNanos: bigint;
  /** Tokens re-sent on every later LLM call until a compaction ("context rent"). */
  carriedTokens: number;
  /** Those tokens at what each later call paid: cache read, else cache write (re-written), else input. */
  carriedCostNanos: bigint;
  /** false when an LLM call involved had no price: the costs above count it as 0. */
  fullyPriced: boolean;
}

const nanos = (tokens: number, pico: bigint): bigint => (BigInt(tokens) * pico + 500n) / 1000n;

interface LlmCall {
  index: number;
  call: SessionCall;
}

/** Cache use from a boolean (read from the cache or not) or the call's counts. */
const cacheUseOf = (u: CacheUse | boolean): CacheUse =>
  typeof u === 'boolean' ? { readTokens: u ? 1 : 0, writeTokens: 0 } : u;

/**
 * Prices findings by what was billed. `prices(spanId)` gives the unit prices of an LLM call
 * (undefined: unpriced); `cache(spanId)` what that call did with the prompt cache (its token
 * counts, or just whether it read from it). The next LLM call pays for the redundant result as new
 * prompt tokens: at the cache-write price for as many as it wrote to the cache, at the input price
 * for the rest. Each later call until a compaction pays again: at the cache-read price when it read
 * from the cache, at the cache-write price when it only wrote (the cache was rebuilt), else input.
 */
export function priceFindings(
  raw: readonly RawFinding[],
  input: readonly SessionCall[],
  prices: (spanId: string) => UnitPrices | undefined,
  cache: (spanId: string) => CacheUse | boolean,
): Finding[] {
  const calls = orderCalls(input);
  const position = new Map(calls.map((c, i) => [c.spanId, i]));
  const llms: LlmCall[] = calls.flatMap((call, index) =>
    call.type === 'llm' ? [{ index, call }] : [],
  );
  const compactions = calls.flatMap((c, i) => (c.type === 'compaction' ? [i] : []));

  return raw.map((f) => {
    const at = position.get(f.spanId) ?? 0;
    const issuing = [...llms].reverse().find((l) => l.index < at);
    const later = llms.filter((l) => l.index > at);
    const next = later[0];
    const stop = compactions.find((ci) => ci > at) ?? Infinity;
    const rent = later.slice(1).filter((l) => l.index < stop);
    // The issuing call's output is shared by the tool calls it issued (those before the next LLM call).
    let issueTokens = 0;
    if (issuing) {
      const siblings = calls
        .slice(issuing.index + 1, next ? next.index : calls.length)
        .filter((c) => c.type === 'tool').length;
      issueTokens = Math.round((issuing.call.outputTokens ?? 0) / Math.max(1, siblings));
    }
    let fullyPriced = true;
    const priceOf = (l: LlmCall | undefined): UnitPrices | undefined => {
      if (!l) return undefined;
      const p = prices(l.call.spanId);
      if (!p) fullyPriced = false;
      return p;
    };
    const issuePrice = priceOf(issuing);
    const nextPrice = priceOf(next);
    let directCostNanos = nanos(issueTokens, issuePrice?.output ?? 0n);
    if (next && nextPrice) {
      const written = Math.min(f.resultTokens, cacheUseOf(cache(next.call.spanId)).writeTokens);
      directCostNanos +=
        nanos(written, nextPrice.cacheWrite ?? nextPrice.input) +
        nanos(f.resultTokens - written, nextPrice.input);
    }
    let carriedCostNanos = 0n;
    for (const l of rent) {
      const p = priceOf(l);
      if (!p) continue;
      const use = cacheUseOf(cache(l.call.spanId));
      const unit =
        use.readTokens > 0
          ? p.cacheRead
          : use.writeTokens > 0
            ? (p.cacheWrite ?? p.input)
            : p.input;
      carriedCostNanos += nanos(f.resultTokens, unit);
    }
    return {
      ...f,
      issueTokens,
      wastedTokens: f.resultTokens + issueTokens,
      directCostNanos,
      carriedTokens: f.resultTokens * rent.length,
      carriedCostNanos,
      fullyPriced,
    };
  });
}
