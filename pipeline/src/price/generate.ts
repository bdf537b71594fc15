/**
 * Generates pipeline/data/prices.json from pydantic/genai-prices v2 data (../shared/data).
 * Usage: npm run gen:prices [-- SOURCE_JSON [OUTPUT_JSON]]
 * Deterministic: the same source gives the same bytes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  PRICE_KEYS,
  type MatchClause,
  type PriceTable,
  type TablePeriod,
  type TablePrice,
  type TableProvider,
} from './table.js';

interface SourcePriceSet {
  [k: string]: unknown;
}
interface SourceModel {
  id: string;
  name?: string;
  match: MatchClause;
  prices:
    | SourcePriceSet
    | {
        constraint?: { start_date?: string; start_time?: string; end_time?: string };
        prices: SourcePriceSet;
      }[];
}
interface SourceProvider {
  id: string;
  name: string;
  provider_match?: MatchClause;
  model_match?: MatchClause;
  models: SourceModel[];
}

const SOURCE = {
  name: 'genai-prices v2',
  repository: 'pydantic/genai-prices',
  path: 'prices/new_data/v2/data.json',
  commit: '47df840a5ab10bbcffb8e5ac01b9899032245d1b',
  license: 'MIT (Copyright (c) Pydantic Services Inc.)',
};

const decimal = (v: unknown): string => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    throw new Error(`not a price: ${JSON.stringify(v)}`);
  return String(v); // shortest round-trip text of the source's decimal literal
};

function price(v: unknown): TablePrice {
  if (typeof v === 'number') return decimal(v);
  const o = v as { base: number; tiers?: { start: number; price: number }[] };
  return {
    base: decimal(o.base),
    tiers: (o.tiers ?? [])
      .map((t) => ({ start: t.start, price: decimal(t.price) }))
      .sort((a, b) => a.start - b.start),
  };
}

function priceSet(src: SourcePriceSet): TablePeriod['prices'] {
  const out: TablePeriod['prices'] = {};
  for (const k of PRICE_KEYS) if (src[k] !== undefined) out[k] = price(src[k]);
  return out;
}

export function generate(source: SourceProvider[]): PriceTable {
  const notes: string[] = [];
  const providers: TableProvider[] = source.map((p) => ({
    id: p.id,
    name: p.name,
    providerMatch: p.provider_match ?? null,
    modelMatch: p.model_match ?? null,
    models: p.models.map((m) => {
      let periods: TablePeriod[];
      if (Array.isArray(m.prices)) {
        periods = [];
        for (const entry of m.prices) {
          const c = entry.constraint;
          if (c?.start_time !== undefined || c?.end_time !== undefined) {
            notes.push(
              `${p.id}/${m.id}: a time-of-day price window was left out (time-of-day pricing is not modeled)`,
            );
            continue;
          }
          periods.push({ from: c?.start_date ?? null, prices: priceSet(entry.prices) });
        }
        periods.sort((a, b) => (a.from ?? '').localeCompare(b.from ?? ''));
      } else {
        periods = [{ from: null, prices: priceSet(m.prices) }];
      }
      return { id: m.id, name: m.name ?? m.id, match: m.match, periods };
    }),
  }));
  return { version: 1, source: SOURCE, notes, providers };
}

function main(): void {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const input = process.argv[2] ?? `${root}../shared/data/genai-prices-v2-data.json`;
  const output = process.argv[3] ?? `${root}pipeline/data/prices.json`;
  const table = generate(JSON.parse(readFileSync(input, 'utf8')) as SourceProvider[]);
  writeFileSync(output, JSON.stringify(table) + '\n');
  const models = table.providers.reduce((n, p) => n + p.models.length, 0);
  process.stdout.write(
    `wrote ${output}: ${table.providers.length} providers, ${models} models, ${table.notes.length} notes\n`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
