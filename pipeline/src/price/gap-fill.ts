/**
 * Gap filling: chat models that the primary table (genai-prices) does not know but LiteLLM or
 * Langfuse price. They are written to pipeline/data/gap-fill.json, one price table per source, by
 *
 *   npm run gen:gap-fill          # = tsc -b && node pipeline/dist/price/gap-fill.js
 *
 * and consulted by the price book only when no genai-prices row (and no override) matches a name.
 * Their rows say where they come from (`gap-fill:litellm:mistral:devstral-small-2507@-`). Neither
 * source has effective dates, so each model has one period "since always" at the source's prices
 * (caveats in ../shared/data/SOURCES.md). Where both sources know a model genai-prices also knows,
 * nothing is filled: `npm run check:prices` lists the differences instead.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createPriceBook, PROVIDER_ALIASES, type PriceBook } from './book.js';
import { perTokenToPico, picoToMtokText } from './decimal.js';
import { PriceTableError } from './errors.js';
import {
  CLIFF_TIER_RULE,
  parsePriceTable,
  PRICE_TABLE_VERSION,
  type PriceComponent,
  type PriceTable,
  type TableModel,
  type TablePrice,
  type TableProvider,
} from './table.js';

export interface GapFill {
  version: 1;
  /** In the order they are consulted: LiteLLM, then Langfuse. */
  tables: PriceTable[];
}

export const NO_GAP_FILL: GapFill = { version: 1, tables: [] };

/** The upstream copies this generator reads (../shared/data/SOURCES.md). */
export const GAP_FILL_SOURCES = {
  litellm: {
    name: 'litellm',
    repository: 'BerriAI/litellm',
    path: 'model_prices_and_context_window.json',
    commit: '5390469c1b29860b4df398e42f37c4fb02355734',
    license: 'MIT (Copyright (c) 2023 Berri AI)',
    file: '../shared/data/litellm-model-prices.json',
    asOf: '2026-02-21',
  },
  langfuse: {
    name: 'langfuse',
    repository: 'langfuse/langfuse',
    path: 'worker/src/constants/default-model-prices.json',
    commit: '62751446149b702b419a9292ddfc2280cdf74b8c',
    license: 'MIT Expat (outside ee/)',
    file: '../shared/data/langfuse-default-model-prices.json',
    asOf: '2026-08-22',
  },
} as const;

/** LiteLLM `litellm_provider` → the OpenTelemetry provider name harness-meter resolves with. */
export const LITELLM_PROVIDERS: Readonly<Record<string, string>> = {
  anthropic: 'anthropic',
  openai: 'openai',
  gemini: 'gcp.gemini',
  xai: 'x_ai',
  deepseek: 'deepseek',
  mistral: 'mistral_ai',
};

/** LiteLLM per-token fields → components; `*_above_200k_tokens` become a cliff tier at 200,000. */
export const LITELLM_FIELDS: Readonly<Record<string, PriceComponent>> = {
  input_cost_per_token: 'input',
  output_cost_per_token: 'output',
  cache_read_input_token_cost: 'cacheRead',
  cache_creation_input_token_cost: 'cacheWrite',
  cache_creation_input_token_cost_above_1hr: 'cacheWrite1h',
};

/** Langfuse usage keys → components (the first key present wins), default pricing tier only. */
export const LANGFUSE_KEYS: Readonly<Record<PriceComponent, readonly string[]>> = {
  input: ['input', 'input_tokens', 'prompt_token_count'],
  output: ['output', 'output_tokens', 'candidates_token_count'],
  cacheRead: ['input_cache_read', 'input_cached_tokens', 'cache_read_input_tokens'],
  cacheWrite: ['input_cache_creation_5m', 'input_cache_creation', 'cache_creation_input_tokens'],
  cacheWrite1h: ['input_cache_creation_1h'],
  request: [],
  webSearch: [],
};

const perToken = (v: unknown): string | undefined =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0
    ? picoToMtokText(perTokenToPico(v))
    : undefined;

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

function table(
  src: (typeof GAP_FILL_SOURCES)[keyof typeof GAP_FILL_SOURCES],
  text: string,
  providers: TableProvider[],
  notes: string[],
): PriceTable {
  return {
    version: PRICE_TABLE_VERSION,
    source: {
      name: src.name,
      repository: src.repository,
      path: src.path,
      commit: src.commit,
      license: src.license,
      file: src.file,
      sha256: sha256(text),
    },
    generatedOn: src.asOf,
    unit: 'USD per million tokens',
    notes,
    providers: providers.filter((p) => p.models.length > 0).sort((a, b) => (a.id < b.id ? -1 : 1)),
  };
}

/** LiteLLM chat models of the mapped providers that `book` does not resolve, priced as LiteLLM lists them. */
function fromLiteLLM(book: PriceBook, text: string): PriceTable {
  const litellm = JSON.parse(text) as Record<string, unknown>;
  const at = new Date(`${GAP_FILL_SOURCES.litellm.asOf}T00:00:00Z`);
  const byProvider = new Map<string, TableProvider>();
  const seen = new Set<string>();
  for (const key of Object.keys(litellm).sort()) {
    const e = litellm[key] as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || e.mode !== 'chat') continue;
    const otel =
      typeof e.litellm_provider === 'string' ? LITELLM_PROVIDERS[e.litellm_provider] : undefined;
    if (otel === undefined) continue;
    const model = (key.includes('/') ? key.slice(key.indexOf('/') + 1) : key).toLowerCase();
    const provider = PROVIDER_ALIASES[otel] ?? otel;
    if (seen.has(`${provider}:${model}`) || book.resolve(otel, model, at) !== undefined) continue;
    const prices: Partial<Record<PriceComponent, TablePrice>> = {};
    for (const [field, component] of Object.entries(LITELLM_FIELDS)) {
      const base = perToken(e[field]);
      if (base === undefined) continue;
      const above = perToken(e[`${field}_above_200k_tokens`]);
      prices[component] =
        above === undefined ? base : { base, tiers: [{ start: 200_000, price: above }] };
    }
    if (prices.input === undefined || prices.output === undefined) continue;
    seen.add(`${provider}:${model}`);
    let p = byProvider.get(provider);
    if (p === undefined) {
      p = {
        id: provider,
        name: provider,
        providerMatch: { equals: provider },
        modelMatch: null,
        fallbackProviders: [],
        // LiteLLM's `*_above_200k_tokens` apply to the whole request (prior-art.md): cliff.
        tierRule: { ...CLIFF_TIER_RULE },
        models: [],
      };
      byProvider.set(provider, p);
    }
    p.models.push({
      id: model,
      name: key,
      match: { equals: model },
      periods: [{ effectiveFrom: null, prices }],
    });
  }
  return table(
    GAP_FILL_SOURCES.litellm,
    text,
    [...byProvider.values()],
    [
      `chat models of ${Object.keys(LITELLM_PROVIDERS).join(', ')} that genai-prices does not price, at LiteLLM's prices as of ${GAP_FILL_SOURCES.litellm.asOf} (no effective dates)`,
    ],
  );
}

interface LangfuseModel {
  modelName: string;
  matchPattern: string;
  pricingTiers: { isDefault: boolean; prices: Record<string, number> }[];
}

/** Langfuse models neither genai-prices nor the LiteLLM gap fill price, from their default tier. */
function fromLangfuse(book: PriceBook, text: string, litellm: PriceTable): PriceTable {
  const models = JSON.parse(text) as LangfuseModel[];
  const at = new Date(`${GAP_FILL_SOURCES.langfuse.asOf}T00:00:00Z`);
  const filled = new Set(litellm.providers.flatMap((p) => p.models.map((m) => m.id)));
  const out: TableModel[] = [];
  const skipped: string[] = [];
  for (const m of [...models].sort((a, b) => (a.modelName < b.modelName ? -1 : 1))) {
    const name = m.modelName.toLowerCase();
    if (book.resolve('', name, at) !== undefined || filled.has(name)) continue;
    const tier = m.pricingTiers.find((t) => t.isDefault);
    // Langfuse writes case-insensitivity as a (?i) prefix; the table's regexes are case-insensitive.
    const regex = m.matchPattern.replace(/^\(\?i\)/, '');
    try {
      new RegExp(regex, 'i');
    } catch {
      skipped.push(`${m.modelName} (pattern ${m.matchPattern} is not a JavaScript regex)`);
      continue;
    }
    if (tier === undefined) continue;
    const prices: Partial<Record<PriceComponent, TablePrice>> = {};
    for (const [component, keys] of Object.entries(LANGFUSE_KEYS) as [
      PriceComponent,
      readonly string[],
    ][]) {
      const key = keys.find((k) => tier.prices[k] !== undefined);
      const v = key === undefined ? undefined : perToken(tier.prices[key]);
      if (v !== undefined) prices[component] = v;
    }
    if (prices.input === undefined || prices.output === undefined) continue;
    out.push({
      id: name,
      name: m.modelName,
      match: { regex },
      periods: [{ effectiveFrom: null, prices }],
    });
  }
  const provider: TableProvider = {
    id: 'langfuse',
    name: 'Langfuse default model prices',
    providerMatch: null,
    modelMatch: null,
    fallbackProviders: [],
    tierRule: { ...CLIFF_TIER_RULE },
    models: out,
  };
  return table(
    GAP_FILL_SOURCES.langfuse,
    text,
    [provider],
    [
      `models that neither genai-prices nor LiteLLM price, at Langfuse's default-tier prices as of ${GAP_FILL_SOURCES.langfuse.asOf} (no effective dates, conditional tiers left out)`,
      ...(skipped.length > 0 ? [`skipped: ${skipped.join('; ')}`] : []),
    ],
  );
}

/** Builds the gap fill from the texts of the two source files, against the primary table's book. */
export function generateGapFill(
  book: PriceBook,
  litellmText: string,
  langfuseText: string,
): GapFill {
  const litellm = fromLiteLLM(book, litellmText);
  return { version: 1, tables: [litellm, fromLangfuse(book, langfuseText, litellm)] };
}

const BUNDLED = new URL('../../data/gap-fill.json', import.meta.url);

/** Reads gap-fill.json, each table checked like the primary one. */
export function loadGapFill(path: URL | string = BUNDLED): GapFill {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new PriceTableError(
      `The gap-fill table ${String(path)} could not be read: ${err instanceof Error ? err.message : String(err)}. Regenerate it with \`npm run gen:gap-fill\`.`,
      { cause: err },
    );
  }
  const v = value as { version?: unknown; tables?: unknown };
  if (v.version !== 1 || !Array.isArray(v.tables))
    throw new PriceTableError(
      `${String(path)}: expected {"version": 1, "tables": [...]}. Regenerate it with \`npm run gen:gap-fill\`.`,
    );
  return {
    version: 1,
    tables: v.tables.map((t, i) => parsePriceTable(t, `${String(path)} tables[${i}]`)),
  };
}

/** The file's text (deterministic). */
export function renderGapFill(g: GapFill): string {
  return JSON.stringify(g, null, 1) + '\n';
}

function main(): void {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const g = generateGapFill(
    createPriceBook(),
    readFileSync(`${root}${GAP_FILL_SOURCES.litellm.file}`, 'utf8'),
    readFileSync(`${root}${GAP_FILL_SOURCES.langfuse.file}`, 'utf8'),
  );
  writeFileSync(fileURLToPath(BUNDLED), renderGapFill(g));
  for (const t of g.tables)
    process.stdout.write(
      `${t.source.name}: ${t.providers.reduce((n, p) => n + p.models.length, 0)} model(s) filled\n`,
    );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
