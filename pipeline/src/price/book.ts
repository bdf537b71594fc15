import { readFileSync } from 'node:fs';
import type { PricedSpan, SpanRecord } from '../model.js';
import {
  matches,
  PRICE_KEYS,
  type PriceKey,
  type PriceTable,
  type TablePrice,
  type TableProvider,
} from './table.js';

/** A price in integer pico-USD per token (1 USD per million tokens = 1,000,000 pico-USD per token). */
export interface PicoPrice {
  base: bigint;
  /** Cliff tiers, ascending: once the request's input tokens exceed `start`, every token of this type pays `price`. */
  tiers: { start: number; price: bigint }[];
}

/** The price row that prices a call; its id is stored with the cost. */
export interface PriceRow {
  /** e.g. `genai-prices:anthropic:claude-sonnet-4-5@-` (period since always) or `…@2026-03-13`. */
  id: string;
  provider: string;
  model: string;
  effectiveFrom: string | null;
  prices: Partial<Record<PriceKey, PicoPrice>>;
}

/** Token counts as the conventions define them: input includes cache reads and writes. */
export interface CostUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWrite5mTokens: number;
  cacheWrite1hTokens: number;
}

export interface CallCost {
  inputNanos: bigint;
  outputNanos: bigint;
  cacheReadNanos: bigint;
  cacheWriteNanos: bigint;
  totalNanos: bigint;
}

export interface PriceBook {
  /** The price row in force at `at` for a model, or undefined when no table row matches. */
  resolve(provider: string, model: string, at: Date): PriceRow | undefined;
  /** Prices an LLM span (other spans pass through with no cost). Never invents $0. */
  priceSpan(span: SpanRecord): PricedSpan;
}

export class PriceTableError extends Error {
  readonly code = 'PRICE_TABLE_INVALID' as const;
  readonly retriable = false as const;
  constructor(message: string) {
    super(message);
    this.name = 'PriceTableError';
  }
}

/** Exact decimal text (USD per million tokens) to integer pico-USD per token, half up past 6 decimals. */
export function mtokToPico(text: string): bigint {
  const m = /^(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/i.exec(text.trim());
  if (!m) throw new PriceTableError(`Not a decimal price: ${JSON.stringify(text)}`);
  let digits = (m[1] ?? '0') + (m[2] ?? '');
  const scale = (m[2] ?? '').length - Number(m[3] ?? 0); // value = digits × 10^-scale USD/MTok
  // pico per token = USD/MTok × 10^6  →  digits × 10^(6 - scale)
  let shift = 6 - scale;
  if (shift >= 0) return BigInt(digits) * 10n ** BigInt(shift);
  shift = -shift;
  if (shift > digits.length) digits = digits.padStart(shift, '0');
  const whole = BigInt(digits.slice(0, digits.length - shift) || '0');
  const next = Number(digits[digits.length - shift] ?? '0');
  return next >= 5 ? whole + 1n : whole;
}

function toPico(p: TablePrice): PicoPrice {
  if (typeof p === 'string') return { base: mtokToPico(p), tiers: [] };
  return {
    base: mtokToPico(p.base),
    tiers: p.tiers.map((t) => ({ start: t.start, price: mtokToPico(t.price) })),
  };
}

/** pico-USD to nano-USD, rounding half up. */
const picoToNano = (pico: bigint): bigint => (pico + 500n) / 1000n;

function unitPrice(p: PicoPrice | undefined, inputTokens: number): bigint | undefined {
  if (!p) return undefined;
  let price = p.base;
  for (const t of p.tiers) if (inputTokens > t.start) price = t.price;
  return price;
}

/**
 * The cost of one call: fresh input × input, cache reads × cache read (else input), 5-minute cache
 * writes × cache write (else input), 1-hour writes × 1-hour write (else 5-minute, else input),
 * output (reasoning included) × output. Each component exact in pico-USD, then rounded half up to
 * nano-USD; the total is the sum of the rounded components.
 */
export function computeCost(row: PriceRow, u: CostUsage): CallCost {
  const n = u.inputTokens;
  const input = unitPrice(row.prices.input_mtok, n) ?? 0n;
  const cacheRead = unitPrice(row.prices.cache_read_mtok, n) ?? input;
  const write5m = unitPrice(row.prices.cache_write_mtok, n) ?? input;
  const write1h = unitPrice(row.prices.cache_write_1h_mtok, n) ?? write5m;
  const output = unitPrice(row.prices.output_mtok, n) ?? 0n;
  const fresh = Math.max(
    0,
    u.inputTokens - u.cacheReadTokens - u.cacheWrite5mTokens - u.cacheWrite1hTokens,
  );
  const inputNanos = picoToNano(BigInt(fresh) * input);
  const cacheReadNanos = picoToNano(BigInt(u.cacheReadTokens) * cacheRead);
  const cacheWriteNanos = picoToNano(
    BigInt(u.cacheWrite5mTokens) * write5m + BigInt(u.cacheWrite1hTokens) * write1h,
  );
  const outputNanos = picoToNano(BigInt(u.outputTokens) * output);
  return {
    inputNanos,
    outputNanos,
    cacheReadNanos,
    cacheWriteNanos,
    totalNanos: inputNanos + outputNanos + cacheReadNanos + cacheWriteNanos,
  };
}

/** OpenTelemetry `gen_ai.provider.name` values (and common spellings) → genai-prices provider ids. */
export const PROVIDER_ALIASES: Readonly<Record<string, string>> = {
  anthropic: 'anthropic',
  openai: 'openai',
  'gcp.gemini': 'google',
  'gcp.vertex_ai': 'google',
  'gcp.gen_ai': 'google',
  google: 'google',
  gemini: 'google',
  vertex_ai: 'google',
  'aws.bedrock': 'aws',
  bedrock: 'aws',
  'azure.ai.openai': 'azure',
  'azure.ai.inference': 'azure',
  azure: 'azure',
  x_ai: 'x-ai',
  xai: 'x-ai',
  'x-ai': 'x-ai',
  mistral_ai: 'mistral',
  mistral: 'mistral',
  deepseek: 'deepseek',
  groq: 'groq',
  cohere: 'cohere',
  perplexity: 'perplexity',
  openrouter: 'openrouter',
  together: 'together',
  fireworks: 'fireworks',
  moonshotai: 'moonshotai',
};

/** Providers tried first when a span names none: first-party model makers before resellers. */
const FIRST_PARTY = [
  'anthropic',
  'openai',
  'google',
  'mistral',
  'deepseek',
  'x-ai',
  'cohere',
  'moonshotai',
];

const BUNDLED = new URL('../../data/prices.json', import.meta.url);

/** Reads and checks the bundled table (pipeline/data/prices.json). */
export function loadBundledPriceTable(path: URL | string = BUNDLED): PriceTable {
  let table: unknown;
  try {
    table = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new PriceTableError(
      `Cannot read the price table ${String(path)}: ${err instanceof Error ? err.message : String(err)}. Regenerate it with npm run gen:prices.`,
    );
  }
  const t = table as Partial<PriceTable>;
  if (t.version !== 1 || !Array.isArray(t.providers)) {
    throw new PriceTableError(
      `${String(path)} is not a harness-meter price table (version 1 with providers[]). Regenerate it with npm run gen:prices.`,
    );
  }
  return t as PriceTable;
}

/** Creates the price book over a table. Resolutions are cached per provider and model. */
export function createPriceBook(table: PriceTable): PriceBook {
  const byId = new Map(table.providers.map((p) => [p.id, p]));
  const order = [
    ...FIRST_PARTY.map((id) => byId.get(id)).filter((p): p is TableProvider => p !== undefined),
    ...table.providers.filter((p) => !FIRST_PARTY.includes(p.id)),
  ];
  const cache = new Map<string, { provider: TableProvider; modelIndex: number } | null>();
  const rows = new Map<string, PriceRow>();

  function providersFor(provider: string, model: string): TableProvider[] {
    const p = provider.trim().toLowerCase();
    if (p !== '') {
      const alias = byId.get(PROVIDER_ALIASES[p] ?? p);
      if (alias) return [alias];
      const matched = table.providers.filter(
        (tp) => tp.providerMatch && matches(tp.providerMatch, p),
      );
      if (matched.length > 0) return matched;
    }
    const byModel = order.filter((tp) => tp.modelMatch && matches(tp.modelMatch, model));
    return [...byModel, ...order.filter((tp) => !byModel.includes(tp))];
  }

  function candidates(model: string): string[] {
    const m = model.trim().toLowerCase();
    const out = [m];
    const slash = m.lastIndexOf('/');
    if (slash >= 0) out.push(m.slice(slash + 1)); // openrouter-style `anthropic/claude-…`, `models/gemini-…`
    return out;
  }

  function find(
    provider: string,
    model: string,
  ): { provider: TableProvider; modelIndex: number } | null {
    const key = `${provider}\u0000${model}`;
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    let found: { provider: TableProvider; modelIndex: number } | null = null;
    outer: for (const name of candidates(model)) {
      for (const tp of providersFor(provider, name)) {
        const i = tp.models.findIndex((m) => matches(m.match, name));
        if (i >= 0) {
          found = { provider: tp, modelIndex: i };
          break outer;
        }
      }
    }
    cache.set(key, found);
    return found;
  }

  function resolve(provider: string, model: string, at: Date): PriceRow | undefined {
    if (model.trim() === '') return undefined;
    const f = find(provider, model);
    if (!f) return undefined;
    const m = f.provider.models[f.modelIndex];
    if (!m) return undefined;
    const day = at.toISOString().slice(0, 10);
    let period = m.periods[0];
    for (const p of m.periods) if (p.from === null || p.from <= day) period = p;
    if (!period || (period.from !== null && period.from > day)) return undefined;
    const id = `genai-prices:${f.provider.id}:${m.id}@${period.from ?? '-'}`;
    let row = rows.get(id);
    if (!row) {
      const prices: Partial<Record<PriceKey, PicoPrice>> = {};
      for (const k of PRICE_KEYS) {
        const p = period.prices[k];
        if (p !== undefined) prices[k] = toPico(p);
      }
      row = { id, provider: f.provider.id, model: m.id, effectiveFrom: period.from, prices };
      rows.set(id, row);
    }
    return row;
  }

  return {
    resolve,
    priceSpan(span) {
      const none = {
        priceId: '',
        costNanos: null,
        inputCostNanos: null,
        outputCostNanos: null,
        cacheReadCostNanos: null,
        cacheWriteCostNanos: null,
      };
      if (span.spanType !== 'llm') return { ...span, ...none, unpriced: false };
      const at = new Date(Number(span.startTimeUnixNano / 1_000_000n));
      const row =
        resolve(span.provider, span.responseModel || span.requestModel, at) ??
        (span.responseModel && span.requestModel
          ? resolve(span.provider, span.requestModel, at)
          : undefined);
      if (!row) return { ...span, ...none, unpriced: true };
      const c = computeCost(row, span);
      return {
        ...span,
        priceId: row.id,
        costNanos: c.totalNanos,
        inputCostNanos: c.inputNanos,
        outputCostNanos: c.outputNanos,
        cacheReadCostNanos: c.cacheReadNanos,
        cacheWriteCostNanos: c.cacheWriteNanos,
        unpriced: false,
      };
    },
  };
}
