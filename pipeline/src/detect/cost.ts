import {
  orderCalls,
  type RawFinding,
  type SessionCall,
} from '@harness-meter/instrumentation/rules';

/** Per-token prices of one LLM call, integer pico-USD. */
export interface UnitPrices {
  input: bigint;
  cacheRead: bigint;
  output: bigint;
}

/** A finding with its cost. */
export interface Finding extends RawFinding {
  /** Result tokens + the output tokens the model spent to issue the call. */
  wastedTokens: number;
  /** Output tokens attributed to issuing the call (its share of the issuing LLM call's output). */
  issueTokens: number;
  /** Result tokens × the next LLM call's input price + issue tokens × the issuing call's output price. */
  directCostNanos: bigint;
  /** Tokens re-sent on every later LLM call until a compaction ("context rent"). */
  carriedTokens: number;
  /** Those tokens at the cache-read (or input) price those later calls paid. */
  carriedCostNanos: bigint;
  /** false when an LLM call involved had no price: the costs above count it as 0. */
  fullyPriced: boolean;
}

const nanos = (tokens: number, pico: bigint): bigint => (BigInt(tokens) * pico + 500n) / 1000n;

interface LlmCall {
  index: number;
  call: SessionCall;
}

/**
 * Prices findings. `prices(spanId)` gives the unit prices of an LLM call (undefined: unpriced).
 * `cacheReads(spanId)` tells whether that call read from the cache (then the re-sent tokens are
 * priced at the cache-read price, else at the input price).
 */
export function priceFindings(
  raw: readonly RawFinding[],
  input: readonly SessionCall[],
  prices: (spanId: string) => UnitPrices | undefined,
  cacheReads: (spanId: string) => boolean,
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
    const directCostNanos =
      nanos(f.resultTokens, nextPrice?.input ?? 0n) + nanos(issueTokens, issuePrice?.output ?? 0n);
    let carriedCostNanos = 0n;
    for (const l of rent) {
      const p = priceOf(l);
      if (p)
        carriedCostNanos += nanos(
          f.resultTokens,
          cacheReads(l.call.spanId) ? p.cacheRead : p.input,
        );
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
