/**
 * Cross-checks the bundled table (genai-prices) against LiteLLM's price list for the same models and
 * lists every difference; nothing is resolved silently. Run: npm run check:prices [-- LITELLM_JSON]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createPriceBook, type PriceBook } from './book.js';
import { perTokenToPico } from './decimal.js';

export { perTokenToPico };

type Field = 'input' | 'output' | 'cacheRead' | 'cacheWrite' | 'cacheWrite1h';

const LITELLM_FIELDS: Readonly<Record<string, Field>> = {
  input_cost_per_token: 'input',
  output_cost_per_token: 'output',
  cache_read_input_token_cost: 'cacheRead',
  cache_creation_input_token_cost: 'cacheWrite',
  cache_creation_input_token_cost_above_1hr: 'cacheWrite1h',
};

/** LiteLLM `litellm_provider` → the OpenTelemetry provider name harness-meter resolves with. */
const LITELLM_PROVIDERS: Readonly<Record<string, string>> = {
  anthropic: 'anthropic',
  openai: 'openai',
  gemini: 'gcp.gemini',
  xai: 'x_ai',
  deepseek: 'deepseek',
  mistral: 'mistral_ai',
};

export interface PriceDifference {
  model: string;
  provider: string;
  field: Field;
  priceId: string;
  /** USD per million tokens, as decimal text; null when that source has no price for the field. */
  genaiPrices: string | null;
  litellm: string;
}

export interface CrossCheck {
  compared: number;
  matched: number;
  /** LiteLLM models the bundled table does not resolve. */
  unresolved: string[];
  differences: PriceDifference[];
}

const picoToMtok = (pico: bigint): string => {
  const whole = pico / 1_000_000n;
  const frac = (pico % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : whole.toString();
};

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
    const model = key.includes('/') ? key.slice(key.indexOf('/') + 1) : key;
    const row = book.resolve(provider, model, at);
    if (!row) {
      out.unresolved.push(`${provider}:${model}`);
      continue;
    }
    out.compared++;
    let same = true;
    for (const [litellmField, field] of Object.entries(LITELLM_FIELDS)) {
      const v = e[litellmField];
      if (typeof v !== 'number') continue;
      const theirs = perTokenToPico(v);
      const ours = row.prices[field]?.base ?? null;
      if (ours !== theirs) {
        same = false;
        out.differences.push({
          model,
          provider,
          field,
          priceId: row.id,
          genaiPrices: ours === null ? null : picoToMtok(ours),
          litellm: picoToMtok(theirs),
        });
      }
    }
    if (same) out.matched++;
  }
  return out;
}

function main(): void {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const path = process.argv[2] ?? `${root}../shared/data/litellm-model-prices.json`;
  // The LiteLLM copy is "as of 2026-02-21" (../shared/data/SOURCES.md): compare the prices in force then.
  const result = crossCheckLiteLLM(
    createPriceBook(),
    JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>,
    new Date('2026-02-21T00:00:00Z'),
  );
  const w = (s: string): boolean => process.stdout.write(s);
  w(
    `LiteLLM chat models compared: ${result.compared}; identical: ${result.matched}; with differences: ${result.compared - result.matched}; not in the bundled table: ${result.unresolved.length}\n`,
  );
  w('model\tprovider\tfield\tgenai-prices $/MTok\tLiteLLM $/MTok\tprice row\n');
  for (const d of result.differences)
    w(
      `${d.model}\t${d.provider}\t${d.field}\t${d.genaiPrices ?? '(none)'}\t${d.litellm}\t${d.priceId}\n`,
    );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
