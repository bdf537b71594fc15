/**
 * The price book: finds the price row for a provider, a model name and a time, and prices LLM
 * spans from it in exact integer money. An LLM call no row matches is flagged unpriced, never $0.
 */
import {
  applyServiceTier,
  NO_SERVICE_TIERS,
  serviceTierOf,
  type ServiceTier,
  type ServiceTierTable,
} from './service-tiers.js';
import { readFileSync } from 'node:fs';
import { ATTR_HM_USAGE_WEB_SEARCH_REQUESTS } from '@harness-meter/instrumentation/semconv';
import type { PricedSpan, SpanRecord } from '../model.js';
import { picoToNanos } from './decimal.js';
import { PriceTableError } from './errors.js';
import {
  applyOverrides,
  compilePrices,
  dateMs,
  makeRow,
  nameCandidates,
  type CompiledModel,
  type CompiledProvider,
} from './compile.js';
import { NO_OVERRIDES, type PriceOverrides } from './overrides.js';
import {
  compileMatch,
  parsePriceTable,
  type PriceComponent,
  type PriceTable,
  type PriceTableSource,
  type TierRule,
} from './table.js';

/** A price in integer pico-USD per token (1 USD per million tokens = 1,000,000 pico-USD per token). */
export interface PicoPrice {
  base: bigint;
  /** Cliff tiers, ascending: once the call's input tokens exceed `start`, every token of the type pays `price`. */
  tiers: readonly { start: number; price: bigint }[];
}

/** One price period of one model: what a stored cost names in `priceId`. */
export interface PriceRow {
  /**
   * Stable id: `genai-prices:<provider>:<model>@<effectiveFrom>`, `@-` for a period since always.
   * Rows from the overrides file start with `override:`; a discount appends `+discount:<pct>%`.
   */
  id: string;
  /** Where the prices come from: the bundled table, or the overrides file (custom model, price change, discount). */
  origin: 'bundled' | 'override' | 'gap-fill';
  /** genai-prices provider id, e.g. `anthropic`, `aws`, `google`. */
  provider: string;
  /** genai-prices model id, e.g. `claude-sonnet-4-5`. */
  model: string;
  /** ISO date the period starts (UTC), or null for since always. */
  effectiveFrom: string | null;
  /** null: the table has no price of its own for that component (computeCost says what applies). */
  prices: Readonly<Record<PriceComponent, PicoPrice | null>>;
  /** How the tiers apply (the provider's rule in the table). */
  tierRule: TierRule;
}

/** Token counts as the GenAI conventions define them: input includes cache reads and writes. */
export type CostUsage = Pick<
  SpanRecord,
  | 'inputTokens'
  | 'outputTokens'
  | 'cacheReadTokens'
  | 'cacheWriteTokens'
  | 'cacheWrite5mTokens'
  | 'cacheWrite1hTokens'
> & {
  /** Server-side web searches the call made (Anthropic `usage.server_tool_use.web_search_requests`). */
  webSearches?: number | undefined;
};

/** A call's cost in integer nano-USD; the total is the sum of the four rounded components and the fees. */
export interface CallCost {
  inputNanos: bigint;
  cacheReadNanos: bigint;
  cacheWriteNanos: bigint;
  outputNanos: bigint;
  /** Per-request and per-web-search fees (exact: a fee is whole nano-USD). */
  feeNanos: bigint;
  totalNanos: bigint;
}

/** A call to price: its provider, model names, start time and usage. */
export interface PriceCall extends CostUsage {
  provider: string;
  requestModel: string;
  responseModel: string;
  startTimeUnixNano: bigint;
  /** Batch, flex or priority processing: priced from the service-tier table when it has the model. */
  serviceTier?: ServiceTier | undefined;
}

/** What pricing a call gives: a row and its cost, or nothing (unpriced). */
export type PriceOutcome = { row: PriceRow; cost: CallCost } | { row: undefined; cost: undefined };

/** Where a book's prices come from. */
export interface PriceBookSources {
  bundled: PriceTableSource;
  /** Tables consulted when the bundled one has no row (LiteLLM, Langfuse: gap-fill.ts). */
  gapFill: readonly PriceTableSource[];
  /** The overrides file, or null when there is none. */
  overridesFile: string | null;
}

export interface PriceBook {
  /**
   * The price row in force at `at` for a model, or undefined when no row matches.
   * `provider` is a `gen_ai.provider.name` (`anthropic`, `aws.bedrock`, `gcp.vertex_ai`, …) or '';
   * `model` may be a dated snapshot (`claude-sonnet-4-5-20250929`) or prefixed (`anthropic/claude-…`).
   */
  resolve(provider: string, model: string, at: Date): PriceRow | undefined;
  /**
   * Prices an LLM span at its start time; other spans pass through with no cost. Never invents $0.
   * The cost fields are written onto `span` itself, which is returned (no copy per span).
   */
  priceSpan(span: SpanRecord): PricedSpan;
  /** Prices one call (the response model first, then the requested one) at its start time. */
  priceCall(call: PriceCall): PriceOutcome;
  /** Every period of the model `resolve` would choose, ascending; empty when none matches. */
  history(provider: string, model: string): readonly PriceRow[];
  sources: PriceBookSources;
}

/** Prefix of the ids of rows that come from the genai-prices table. */
const ROW_ID_PREFIX = 'genai-prices';

type CostFields = Pick<
  PricedSpan,
  | 'priceId'
  | 'costNanos'
  | 'inputCostNanos'
  | 'outputCostNanos'
  | 'cacheReadCostNanos'
  | 'cacheWriteCostNanos'
>;

/**
 * The span with its cost written onto it (the record itself, not a copy: a priced copy per span
 * was a third of the objects decode + price allocated in the profile of issue 17). Only cost
 * fields are added or replaced; every other field stays as decoded, so pricing again is harmless.
 */
function withCost(span: SpanRecord, cost: CostFields, unpriced: boolean): PricedSpan {
  const out = span as PricedSpan;
  out.priceId = cost.priceId;
  out.costNanos = cost.costNanos;
  out.inputCostNanos = cost.inputCostNanos;
  out.outputCostNanos = cost.outputCostNanos;
  out.cacheReadCostNanos = cost.cacheReadCostNanos;
  out.cacheWriteCostNanos = cost.cacheWriteCostNanos;
  out.unpriced = unpriced;
  return out;
}

/** Resolutions cached per (provider, model) before the cache is cleared; bounds memory on odd input. */
export const MAX_RESOLUTION_CACHE = 10_000;

/**
 * OpenTelemetry `gen_ai.provider.name` values (and the deprecated `gen_ai.system` ones, and common
 * spellings) → genai-prices provider ids. Names not listed are looked up by genai-prices id and
 * then by each provider's own `providerMatch`.
 */
export const PROVIDER_ALIASES: Readonly<Record<string, string>> = {
  anthropic: 'anthropic',
  openai: 'openai',
  'gcp.gemini': 'google',
  'gcp.vertex_ai': 'google',
  'gcp.gen_ai': 'google',
  vertex_ai: 'google',
  gemini: 'google',
  google: 'google',
  'aws.bedrock': 'aws',
  bedrock: 'aws',
  'azure.ai.openai': 'azure',
  'azure.ai.inference': 'azure',
  'az.ai.openai': 'azure',
  'az.ai.inference': 'azure',
  azure: 'azure',
  x_ai: 'x-ai',
  xai: 'x-ai',
  mistral_ai: 'mistral',
  mistralai: 'mistral',
  deepseek: 'deepseek',
  groq: 'groq',
  cohere: 'cohere',
  perplexity: 'perplexity',
  openrouter: 'openrouter',
  together_ai: 'together',
  fireworks_ai: 'fireworks',
  moonshot: 'moonshotai',
};

/**
 * Search order when the span names no known provider: model makers first (their list price), then
 * the clouds that resell them, then every other provider by id.
 */
const SEARCH_ORDER = [
  'anthropic',
  'openai',
  'google',
  'mistral',
  'deepseek',
  'x-ai',
  'cohere',
  'moonshotai',
  'minimax',
  'zhipuai',
  'zai',
  'voyageai',
  'perplexity',
  'aws',
  'azure',
];

const DEFAULT_TABLE_URL = new URL('../../data/prices.json', import.meta.url);

/** Reads and checks a price table file. Throws PriceTableError with what is wrong and how to fix it. */
export function loadPriceTable(path: string | URL): PriceTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PriceTableError(
      `cannot read the price table ${String(path)}. Regenerate it with \`npm run gen:prices\`.`,
      { cause: err },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new PriceTableError(
      `the price table ${String(path)} is not JSON. Regenerate it with \`npm run gen:prices\`.`,
      { cause: err },
    );
  }
  return parsePriceTable(value, String(path));
}

/** The table shipped with the pipeline: pipeline/data/prices.json. */
export function loadBundledPriceTable(): PriceTable {
  return loadPriceTable(DEFAULT_TABLE_URL);
}

/** Span attribute with the number of server-side web searches a call made (the SDK sets it). */
export const WEB_SEARCHES_ATTRIBUTE = ATTR_HM_USAGE_WEB_SEARCH_REQUESTS;

/** The web searches a call made, from its attributes (0 when not said or not a count). */
export function webSearchesOf(attributes: Readonly<Record<string, string>> | undefined): number {
  const n = Number(attributes?.[WEB_SEARCHES_ATTRIBUTE] ?? '0');
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

function tokens(n: number): bigint {
  return Number.isFinite(n) && n > 0 ? BigInt(Math.floor(n)) : 0n;
}

/** Cliff: the price of the highest tier whose start the threshold count exceeds. */
function unitPrice(p: PicoPrice, thresholdTokens: bigint): bigint {
  let price = p.base;
  for (const t of p.tiers) if (thresholdTokens > BigInt(t.start)) price = t.price;
  return price;
}

/** pico-USD of `n` tokens of one type under the row's tier rule. */
function tokensCost(
  n: bigint,
  p: PicoPrice | null,
  rule: TierRule,
  thresholdTokens: bigint,
): bigint {
  if (p === null || n === 0n) return 0n;
  if (rule.mode === 'cliff' || p.tiers.length === 0) return n * unitPrice(p, thresholdTokens);
  // marginal: tokens up to the first start at the base price, each band above at its tier price
  let total = 0n;
  let from = 0n;
  let price = p.base;
  for (const t of p.tiers) {
    const start = BigInt(t.start);
    if (n <= start) break;
    total += (start - from) * price;
    from = start;
    price = t.price;
  }
  return total + (n - from) * price;
}

/**
 * The cost of one call, exact: each component in pico-USD (tokens × pico-USD per token), rounded
 * half up to nano-USD; the total is the sum of the rounded components.
 *
 * - fresh input = input − cache reads − cache writes (never below 0), at the input price;
 * - cache reads at the cache-read price, else the input price;
 * - 5-minute writes at the cache-write price, else input; 1-hour writes at the 1-hour price, else
 *   the 5-minute price, else input. Writes not split into 5m/1h count as 5-minute;
 * - output at the output price (reasoning tokens are part of the output count already);
 * - a component the table has no price for, and no fallback, costs 0 (as in genai-prices: free models);
 * - tiers follow the row's tier rule: cliff (genai-prices: the tier is chosen by the call's input
 *   tokens, cache included) or marginal (per type, only the tokens past a start pay its price);
 *   with `cacheCountsTowardThreshold` false, the threshold compares fresh input only.
 * Counts that are negative, fractional or not numbers are read as 0 / floored; nothing throws.
 */
export function computeCost(row: PriceRow, usage: CostUsage): CallCost {
  const read = tokens(usage.cacheReadTokens);
  const writes = tokens(usage.cacheWriteTokens);
  const write1h = tokens(usage.cacheWrite1hTokens);
  let write5m = tokens(usage.cacheWrite5mTokens);
  if (write5m + write1h < writes) write5m = writes - write1h;
  const cached = read + write5m + write1h;
  let input = tokens(usage.inputTokens);
  const fresh = input > cached ? input - cached : 0n;
  if (input < cached) input = cached;

  const p = row.prices;
  const rule = row.tierRule;
  const threshold = rule.cacheCountsTowardThreshold ? input : fresh;
  const cost = (n: bigint, price: PicoPrice | null): bigint =>
    tokensCost(n, price, rule, threshold);
  const inputNanos = picoToNanos(cost(fresh, p.input));
  const cacheReadNanos = picoToNanos(cost(read, p.cacheRead ?? p.input));
  const write5mPrice = p.cacheWrite ?? p.input;
  const cacheWriteNanos = picoToNanos(
    cost(write5m, write5mPrice) + cost(write1h, p.cacheWrite1h ?? write5mPrice),
  );
  const outputNanos = picoToNanos(cost(tokens(usage.outputTokens), p.output));
  // A fee in USD per thousand is, as a number, nano-USD per unit: the table's decimal → pico/token
  // conversion (× 10^6) is the same factor, so the base is already nano-USD per request or search.
  const feeNanos =
    (p.request?.base ?? 0n) + (p.webSearch?.base ?? 0n) * tokens(usage.webSearches ?? 0);
  return {
    inputNanos,
    cacheReadNanos,
    cacheWriteNanos,
    outputNanos,
    feeNanos,
    totalNanos: inputNanos + cacheReadNanos + cacheWriteNanos + outputNanos + feeNanos,
  };
}

/**
 * Creates the price book over a table (default: the bundled one) and the user's overrides. The
 * table and the overrides are checked and compiled once; an invalid table, or an override naming
 * a model no table knows, throws PriceTableError here, not at the first span.
 */
export function createPriceBook(
  table: PriceTable = loadBundledPriceTable(),
  overrides: PriceOverrides = NO_OVERRIDES,
  serviceTiers: ServiceTierTable = NO_SERVICE_TIERS,
  gapFill: readonly PriceTable[] = [],
): PriceBook {
  const checked = parsePriceTable(table, 'price table given to createPriceBook');
  // Gap-fill tables: other sources' models the bundled table lacks, tried last, in order.
  const gapTables = gapFill.map((t) => ({
    source: t.source,
    providers: t.providers.map((p) => ({
      id: p.id,
      models: p.models.map((m): CompiledModel => ({
        id: m.id,
        match: compileMatch(m.match),
        periods: m.periods.map((period) => ({
          fromMs: dateMs(period.effectiveFrom),
          row: makeRow(
            `gap-fill:${t.source.name}:${p.id}:${m.id}@${period.effectiveFrom ?? '-'}`,
            'gap-fill',
            p.id,
            m.id,
            period.effectiveFrom,
            compilePrices(period.prices),
            p.tierRule,
          ),
        })),
      })),
    })),
  }));
  const providers: CompiledProvider[] = checked.providers.map((p) => ({
    id: p.id,
    providerMatch: p.providerMatch === null ? null : compileMatch(p.providerMatch),
    modelMatch: p.modelMatch === null ? null : compileMatch(p.modelMatch),
    fallbacks: p.fallbackProviders,
    models: p.models.map((m) => ({
      id: m.id,
      match: compileMatch(m.match),
      periods: m.periods.map((period) => ({
        fromMs: dateMs(period.effectiveFrom),
        row: makeRow(
          `${ROW_ID_PREFIX}:${p.id}:${m.id}@${period.effectiveFrom ?? '-'}`,
          'bundled',
          p.id,
          m.id,
          period.effectiveFrom,
          compilePrices(period.prices),
          p.tierRule,
        ),
      })),
    })),
  }));
  const byId = new Map(providers.map((p) => [p.id, p]));
  const customProviders = applyOverrides(overrides, providers, byId, providerNamed);
  const searchOrder = [
    ...customProviders,
    ...SEARCH_ORDER.flatMap((id) => byId.get(id) ?? []),
    ...providers.filter((p) => !SEARCH_ORDER.includes(p.id)),
  ];
  const cache = new Map<string, CompiledModel | null>();

  function providerNamed(name: string): CompiledProvider | undefined {
    const n = name.trim().toLowerCase();
    if (n === '') return undefined;
    const alias = PROVIDER_ALIASES[n];
    return (
      (alias === undefined ? undefined : byId.get(alias)) ??
      byId.get(n) ??
      providers.find((p) => p.providerMatch?.(n) === true)
    );
  }

  /**
   * Known provider: its own models, then the providers it resells (genai-prices
   * fallback_model_providers), then the maker the name points to (`claude…` → anthropic) at list
   * price. Unknown or no provider: the maker the name points to, then every provider in SEARCH_ORDER.
   */
  function findModel(provider: string, model: string): CompiledModel | null {
    const names = nameCandidates(model);
    const makers = searchOrder.filter(
      (p) => p.modelMatch !== null && names.some((n) => p.modelMatch?.(n) === true),
    );
    const known = providerNamed(provider);
    const steps =
      known === undefined
        ? [...makers, ...searchOrder]
        : [known, ...known.fallbacks.flatMap((id) => byId.get(id) ?? []), ...makers];
    for (const p of new Set(steps)) {
      for (const n of names) {
        const m = p.models.find((x) => x.match(n));
        if (m !== undefined) return m;
      }
    }
    return null;
  }

  /** A gap-fill model: the named provider's first, then any, table by table. */
  function findGap(provider: string, model: string): CompiledModel | null {
    const names = nameCandidates(model);
    const p = provider.trim().toLowerCase();
    const wanted = PROVIDER_ALIASES[p] ?? p;
    for (const t of gapTables) {
      const ordered = [
        ...t.providers.filter((x) => x.id === wanted),
        ...t.providers.filter((x) => x.id !== wanted),
      ];
      for (const gp of ordered)
        for (const n of names) {
          const m = gp.models.find((x) => x.match(n));
          if (m !== undefined) return m;
        }
    }
    return null;
  }

  function resolve(provider: string, model: string, at: Date): PriceRow | undefined {
    const atMs = at.getTime();
    if (model.trim() === '' || Number.isNaN(atMs)) return undefined;
    const key = `${provider}\u0000${model}`;
    let found = cache.get(key);
    if (found === undefined) {
      found = findModel(provider, model) ?? findGap(provider, model);
      if (cache.size >= MAX_RESOLUTION_CACHE) cache.clear();
      cache.set(key, found);
    }
    if (found === null) return undefined;
    let row: PriceRow | undefined;
    for (const period of found.periods)
      if (period.fromMs === null || period.fromMs <= atMs) row = period.row;
    return row;
  }

  const noCost = {
    priceId: '',
    costNanos: null,
    inputCostNanos: null,
    outputCostNanos: null,
    cacheReadCostNanos: null,
    cacheWriteCostNanos: null,
  } as const;

  function priceCall(call: PriceCall): PriceOutcome {
    const at = new Date(Number(call.startTimeUnixNano / 1_000_000n));
    const model = call.responseModel || call.requestModel;
    // A response model the table does not know (a new snapshot) still prices by the requested one.
    const row =
      resolve(call.provider, model, at) ??
      (model !== call.requestModel && call.requestModel !== ''
        ? resolve(call.provider, call.requestModel, at)
        : undefined);
    if (row === undefined) return { row: undefined, cost: undefined };
    const priced = applyServiceTier(
      row,
      call.serviceTier,
      [model, call.requestModel],
      serviceTiers,
    );
    return { row: priced, cost: computeCost(priced, call) };
  }

  function history(provider: string, model: string): readonly PriceRow[] {
    if (model.trim() === '') return [];
    return findModel(provider, model)?.periods.map((p) => p.row) ?? [];
  }

  function priceSpan(span: SpanRecord): PricedSpan {
    if (span.spanType !== 'llm') return withCost(span, noCost, false);
    const { row, cost: c } = priceCall({
      provider: span.provider,
      requestModel: span.requestModel,
      responseModel: span.responseModel,
      startTimeUnixNano: span.startTimeUnixNano,
      inputTokens: span.inputTokens,
      outputTokens: span.outputTokens,
      cacheReadTokens: span.cacheReadTokens,
      cacheWriteTokens: span.cacheWriteTokens,
      cacheWrite5mTokens: span.cacheWrite5mTokens,
      cacheWrite1hTokens: span.cacheWrite1hTokens,
      serviceTier: serviceTierOf(span.spanAttributes),
      webSearches: webSearchesOf(span.spanAttributes),
    });
    if (row === undefined) return withCost(span, noCost, true);
    return withCost(
      span,
      {
        priceId: row.id,
        costNanos: c.totalNanos,
        inputCostNanos: c.inputNanos,
        outputCostNanos: c.outputNanos,
        cacheReadCostNanos: c.cacheReadNanos,
        cacheWriteCostNanos: c.cacheWriteNanos,
      },
      false,
    );
  }

  return {
    resolve,
    priceSpan,
    priceCall,
    history,
    sources: Object.freeze({
      bundled: checked.source,
      gapFill: Object.freeze(gapFill.map((t) => t.source)),
      overridesFile: overrides.file,
    }),
  };
}
