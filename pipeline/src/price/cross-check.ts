/**
 * Cross-checks the bundled table (genai-prices) against LiteLLM's and Langfuse's price lists for
 * the models both know, and lists every difference; nothing is resolved silently. Models the
 * bundled table lacks are filled from those sources by gap-fill.ts. Run:
 *   npm run check:prices [-- LITELLM_JSON LANGFUSE_JSON]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createPriceBook, type PriceBook } from './book.js';
import { perTokenToPico, picoToMtokText } from './decimal.js';
import { GAP_FILL_SOURCES, LANGFUSE_KEYS, LITELLM_FIELDS, LITELLM_PROVIDERS } from './gap-fill.js';
import type { PriceComponent } from './table.js';

export { perTokenToPico };

export interface PriceDifference {
  /** The other source: `litellm` or `langfuse`. */
  source: 'litellm' | 'langfuse';
  model: string;
  provider: string;
  field: PriceComponent;
  priceId: string;
  /** USD per million tokens, as decimal text; null when genai-prices has no price for the field. */
  genaiPrices: string | null;
  /** The other source's price, USD per million tokens. */
  other: string;
}

export interface CrossCheck {
  compared: number;
  matched: number;
  /** Models of the other source the bundled table does not resolve (gap-filled instead). */
  unresolved: string[];
  differences: PriceDifference[];
}

/** Compares one model's prices (USD per token, by component) with the row the book resolves. */
function compare(
  out: CrossCheck,
  book: PriceBook,
  source: PriceDifference['source'],
  provider: string,
  model: string,
  at: Date,
  theirs: Partial<Record<PriceComponent, number>>,
): void {
  const row = book.resolve(provider, model, at);
  if (!row) {
    out.unresolved.push(`${provider || source}:${model}`);
    return;
  }
  out.compared++;
  let same = true;
  for (const [field, v] of Object.entries(theirs) as [PriceComponent, number][]) {
    const other = perTokenToPico(v);
    const ours = row.prices[field]?.base ?? null;
    if (ours === other) continue;
    same = false;
    out.differences.push({
      source,
      model,
      provider,
      field,
      priceId: row.id,
      genaiPrices: ours === null ? null : picoToMtokText(ours),
      other: picoToMtokText(other),
    });
  }
  if (same) out.matched++;
}

export function crossCheckLiteLLM(
  book: PriceBook,
  litellm: Record<string, unknown>,
  at: Date,
): CrossCheck {
  const out: CrossCheck = { compared: 0, matched: 0, unresolved: [], differences: [] };
  for (const [key, entry] of Object.entries(litellm).sort(([a], [b]) => a.localeCompare(b))) {
    if (typeof entry !== 'object' || entry === null) continue;
    const e = entry as Record<string, unknown>;
    const provider =
      typeof e.litellm_provider === 'string' ? LITELLM_PROVIDERS[e.litellm_provider] : undefined;
    if (!provider || e.mode !== 'chat') continue;
    const theirs: Partial<Record<PriceComponent, number>> = {};
    for (const [field, component] of Object.entries(LITELLM_FIELDS))
      if (typeof e[field] === 'number') theirs[component] = e[field];
    compare(out, book, 'litellm', provider, key.slice(key.indexOf('/') + 1), at, theirs);
  }
  return out;
}

/** Langfuse models by name (default pricing tier), resolved with no provider as Langfuse does. */
export function crossCheckLangfuse(
  book: PriceBook,
  langfuse: readonly {
    modelName: string;
    pricingTiers: { isDefault: boolean; prices: Record<string, number> }[];
  }[],
  at: Date,
): CrossCheck {
  const out: CrossCheck = { compared: 0, matched: 0, unresolved: [], differences: [] };
  for (const m of [...langfuse].sort((a, b) => a.modelName.localeCompare(b.modelName))) {
    const tier = m.pricingTiers.find((t) => t.isDefault);
    if (tier === undefined) continue;
    const theirs: Partial<Record<PriceComponent, number>> = {};
    for (const [component, keys] of Object.entries(LANGFUSE_KEYS) as [
      PriceComponent,
      readonly string[],
    ][]) {
      const key = keys.find((k) => typeof tier.prices[k] === 'number');
      if (key !== undefined) theirs[component] = tier.prices[key] as number;
    }
    compare(out, book, 'langfuse', '', m.modelName, at, theirs);
  }
  return out;
}

function main(): void {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const litellmPath = process.argv[2] ?? `${root}${GAP_FILL_SOURCES.litellm.file}`;
  const langfusePath = process.argv[3] ?? `${root}${GAP_FILL_SOURCES.langfuse.file}`;
  // The bundled table alone (no gap fill): each copy is compared at its own date (SOURCES.md).
  const book = createPriceBook();
  const w = (s: string): boolean => process.stdout.write(s);
  const results = [
    crossCheckLiteLLM(
      book,
      JSON.parse(readFileSync(litellmPath, 'utf8')) as Record<string, unknown>,
      new Date(`${GAP_FILL_SOURCES.litellm.asOf}T00:00:00Z`),
    ),
    crossCheckLangfuse(
      book,
      JSON.parse(readFileSync(langfusePath, 'utf8')) as Parameters<typeof crossCheckLangfuse>[1],
      new Date(`${GAP_FILL_SOURCES.langfuse.asOf}T00:00:00Z`),
    ),
  ];
  for (const [i, r] of results.entries())
    w(
      `${i === 0 ? 'LiteLLM chat models' : 'Langfuse models'} compared: ${r.compared}; identical: ${r.matched}; with differences: ${r.compared - r.matched}; not in the bundled table (gap-filled): ${r.unresolved.length}\n`,
    );
  w('source\tmodel\tprovider\tfield\tgenai-prices $/MTok\tother $/MTok\tprice row\n');
  for (const d of results.flatMap((r) => r.differences))
    w(
      `${d.source}\t${d.model}\t${d.provider || '-'}\t${d.field}\t${d.genaiPrices ?? '(none)'}\t${d.other}\t${d.priceId}\n`,
    );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
