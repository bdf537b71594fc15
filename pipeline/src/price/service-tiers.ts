/**
 * Service tiers (OpenAI Batch, Flex and Priority processing; Gemini batch): the same model at other
 * prices. The table is generated from LiteLLM's price list (`*_batches`, `*_flex`, `*_priority`
 * fields; genai-prices has none) by `npm run gen:service-tiers`, committed as pipeline/data/service-tiers.json.
 * A call says its tier with `openai.request.service_tier` (OpenTelemetry's OpenAI conventions) or
 * `harness_meter.service_tier` (`batch`, `flex`, `priority`); `auto` and `default` mean the list price.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { ATTR_HM_SERVICE_TIER } from '@harness-meter/instrumentation/semconv';
import { fileURLToPath } from 'node:url';
import type { PicoPrice, PriceRow } from './book.js';
import { mtokToPico, perTokenToPico, picoToMtokText } from './decimal.js';
import { discountPico } from './overrides.js';
import { isFeeComponent } from './table.js';

export type ServiceTier = 'batch' | 'flex' | 'priority';
export const SERVICE_TIERS: readonly ServiceTier[] = ['batch', 'flex', 'priority'];

/** USD per million tokens, decimal text. */
interface TierPrices {
  input?: string;
  output?: string;
  cacheRead?: string;
}

/**
 * A provider-wide tier rule, for providers whose tier prices are a fixed share of the list price
 * and which the per-model lists do not carry: every token price (cache reads and writes, tiers
 * included) less `percentOff`; per-call fees (requests, web searches) unchanged.
 */
export interface ProviderTierRule {
  percentOff: string;
  /** Where the rule comes from, and the per-model prices that confirm it. */
  evidence: string;
}

export interface ServiceTierTable {
  version: 1;
  source: string;
  /** model name (lowercase) → tier → prices */
  models: Record<string, Partial<Record<ServiceTier, TierPrices>>>;
  /** genai-prices provider id → tier → rule; used when `models` has no entry for the model. */
  providerRules?: Record<string, Partial<Record<ServiceTier, ProviderTierRule>>>;
}

export const NO_SERVICE_TIERS: ServiceTierTable = { version: 1, source: 'none', models: {} };

/**
 * Anthropic's Message Batches API: 50% off every token price (cache included). LiteLLM carries
 * batch prices for Claude only on Vertex AI (`vertex_ai-anthropic_models`, input and output); the
 * generator checks each of them is exactly half of that model's list price and records them as
 * evidence (a mismatch is written into the evidence, not resolved silently).
 */
const ANTHROPIC_BATCH_PERCENT_OFF = '50';

const SUFFIX: Record<ServiceTier, string> = {
  batch: '_batches',
  flex: '_flex',
  priority: '_priority',
};
const FIELDS: Record<keyof TierPrices, string> = {
  input: 'input_cost_per_token',
  output: 'output_cost_per_token',
  cacheRead: 'cache_read_input_token_cost',
};
const PROVIDERS = new Set(['openai', 'azure', 'gemini']);

/** Builds the table from LiteLLM's JSON (deterministic: sorted keys). */
export function generateServiceTiers(litellm: Record<string, unknown>): ServiceTierTable {
  const models: ServiceTierTable['models'] = {};
  for (const key of Object.keys(litellm).sort()) {
    const e = litellm[key];
    if (typeof e !== 'object' || e === null) continue;
    const entry = e as Record<string, unknown>;
    if (typeof entry.litellm_provider !== 'string' || !PROVIDERS.has(entry.litellm_provider))
      continue;
    const name = (key.includes('/') ? key.slice(key.lastIndexOf('/') + 1) : key).toLowerCase();
    for (const tier of SERVICE_TIERS) {
      const prices: TierPrices = {};
      for (const [field, base] of Object.entries(FIELDS) as [keyof TierPrices, string][]) {
        const v = entry[base + SUFFIX[tier]];
        if (typeof v === 'number' && v >= 0) prices[field] = picoToMtokText(perTokenToPico(v));
      }
      if (Object.keys(prices).length > 0 && models[name]?.[tier] === undefined) {
        models[name] = { ...models[name], [tier]: prices };
      }
    }
  }
  return {
    version: 1,
    source:
      'BerriAI/litellm model_prices_and_context_window.json @ 5390469c (2026-02-21), *_batches / *_flex / *_priority',
    models,
    providerRules: {
      anthropic: {
        batch: {
          percentOff: ANTHROPIC_BATCH_PERCENT_OFF,
          evidence: anthropicBatchEvidence(litellm),
        },
      },
    },
  };
}

/** The Claude batch prices LiteLLM has, each checked against half its list price. */
function anthropicBatchEvidence(litellm: Record<string, unknown>): string {
  const agree: string[] = [];
  const differ: string[] = [];
  for (const key of Object.keys(litellm).sort()) {
    const e = litellm[key] as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || e.litellm_provider !== 'vertex_ai-anthropic_models')
      continue;
    for (const field of ['input_cost_per_token', 'output_cost_per_token']) {
      const list = e[field];
      const batch = e[field + SUFFIX.batch];
      if (typeof list !== 'number' || typeof batch !== 'number') continue;
      const listPico = perTokenToPico(list);
      const expected = (listPico * (100n - BigInt(ANTHROPIC_BATCH_PERCENT_OFF))) / 100n;
      (perTokenToPico(batch) === expected ? agree : differ).push(
        `${key} ${field.split('_')[0]} ${picoToMtokText(listPico)} -> ${picoToMtokText(perTokenToPico(batch))}`,
      );
    }
  }
  return (
    `Anthropic Message Batches: ${ANTHROPIC_BATCH_PERCENT_OFF}% off all token prices. ` +
    `LiteLLM batch prices (USD/MTok) that agree: ${agree.join('; ') || 'none'}` +
    (differ.length > 0 ? `. That DIFFER: ${differ.join('; ')}` : '')
  );
}

const BUNDLED = new URL('../../data/service-tiers.json', import.meta.url);

export function loadServiceTiers(path: URL | string = BUNDLED): ServiceTierTable {
  try {
    const t = JSON.parse(readFileSync(path, 'utf8')) as ServiceTierTable;
    return t.version === 1 && typeof t.models === 'object' ? t : NO_SERVICE_TIERS;
  } catch {
    return NO_SERVICE_TIERS;
  }
}

/** The tier a call asked for, from its attributes; undefined for the standard price. */
export function serviceTierOf(
  attributes: Readonly<Record<string, string>> | undefined,
): ServiceTier | undefined {
  const v = (
    attributes?.[ATTR_HM_SERVICE_TIER] ||
    attributes?.['openai.request.service_tier'] ||
    attributes?.['gen_ai.openai.request.service_tier'] ||
    ''
  ).toLowerCase();
  return (SERVICE_TIERS as readonly string[]).includes(v) ? (v as ServiceTier) : undefined;
}

const flat = (text: string): PicoPrice => ({ base: mtokToPico(text), tiers: [] });

/** The row at the tier's prices (id `…+batch`), or the row unchanged when the table has none for it. */
export function applyServiceTier(
  row: PriceRow,
  tier: ServiceTier | undefined,
  models: readonly string[],
  table: ServiceTierTable,
): PriceRow {
  if (!tier) return row;
  const prices = [row.model, ...models]
    .map((m) => table.models[m.toLowerCase()]?.[tier])
    .find((p) => p !== undefined);
  const rule = table.providerRules?.[row.provider]?.[tier];
  if (!prices && rule) {
    const off = (p: PicoPrice | null): PicoPrice | null =>
      p === null
        ? null
        : {
            base: discountPico(p.base, rule.percentOff),
            tiers: p.tiers.map((t) => ({
              start: t.start,
              price: discountPico(t.price, rule.percentOff),
            })),
          };
    const discounted = Object.fromEntries(
      Object.entries(row.prices).map(([c, p]) => [c, isFeeComponent(c) ? p : off(p)]),
    ) as PriceRow['prices'];
    return { ...row, id: `${row.id}+${tier}`, prices: discounted };
  }
  if (!prices) return row;
  return {
    ...row,
    id: `${row.id}+${tier}`,
    prices: {
      ...row.prices,
      ...(prices.input ? { input: flat(prices.input) } : {}),
      ...(prices.output ? { output: flat(prices.output) } : {}),
      ...(prices.cacheRead ? { cacheRead: flat(prices.cacheRead) } : {}),
    },
  };
}

function main(): void {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const input = process.argv[2] ?? `${root}../shared/data/litellm-model-prices.json`;
  const table = generateServiceTiers(
    JSON.parse(readFileSync(input, 'utf8')) as Record<string, unknown>,
  );
  writeFileSync(fileURLToPath(BUNDLED), JSON.stringify(table, null, 1) + '\n');
  process.stdout.write(
    `wrote ${fileURLToPath(BUNDLED)}: ${Object.keys(table.models).length} models with service-tier prices\n`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
