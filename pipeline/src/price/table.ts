/**
 * The bundled price table: pipeline/data/prices.json, generated from pydantic/genai-prices by
 * `npm run gen:prices` (generate.ts). Prices are decimal strings in USD per million tokens, as in
 * the source; they become exact integers only at use.
 */

/** A genai-prices match clause, evaluated on the lowercased model or provider name. */
export type MatchClause =
  | { equals: string }
  | { starts_with: string }
  | { ends_with: string }
  | { contains: string }
  | { regex: string }
  | { or: MatchClause[] }
  | { and: MatchClause[] };

/** A price: flat, or with "cliff" tiers (once input tokens exceed `start`, all tokens pay `price`). */
export type TablePrice = string | { base: string; tiers: { start: number; price: string }[] };

export const PRICE_KEYS = [
  'input_mtok',
  'output_mtok',
  'cache_read_mtok',
  'cache_write_mtok',
  'cache_write_1h_mtok',
] as const;
export type PriceKey = (typeof PRICE_KEYS)[number];

export interface TablePeriod {
  /** ISO date the prices take effect (UTC midnight), or null for "since always". */
  from: string | null;
  prices: Partial<Record<PriceKey, TablePrice>>;
}

export interface TableModel {
  id: string;
  name: string;
  match: MatchClause;
  periods: TablePeriod[];
}

export interface TableProvider {
  id: string;
  name: string;
  providerMatch: MatchClause | null;
  modelMatch: MatchClause | null;
  models: TableModel[];
}

export interface PriceTable {
  version: 1;
  source: { name: string; repository: string; path: string; commit: string; license: string };
  notes: string[];
  providers: TableProvider[];
}

/** Evaluates a match clause against a lowercased name. */
export function matches(clause: MatchClause, name: string): boolean {
  if ('equals' in clause) return name === clause.equals.toLowerCase();
  if ('starts_with' in clause) return name.startsWith(clause.starts_with.toLowerCase());
  if ('ends_with' in clause) return name.endsWith(clause.ends_with.toLowerCase());
  if ('contains' in clause) return name.includes(clause.contains.toLowerCase());
  if ('regex' in clause) return new RegExp(clause.regex, 'i').test(name);
  if ('or' in clause) return clause.or.some((c) => matches(c, name));
  return clause.and.every((c) => matches(c, name));
}
