/**
 * The committed price table, pipeline/data/prices.json: generated from pydantic/genai-prices by
 * generate.ts (`npm run gen:prices`), checked here when loaded. Prices stay decimal strings in USD
 * per million tokens, exactly as in the source; they become integers only at use (decimal.ts).
 */
import { isDecimalPrice } from './decimal.js';
import { PriceTableError } from './errors.js';

/** Version of the table's shape; bump it when the shape changes. */
export const PRICE_TABLE_VERSION = 1;

/**
 * A genai-prices match clause. The resolver evaluates it on the lowercased model (or provider)
 * name, comparing case-insensitively.
 */
export type MatchClause =
  | { equals: string }
  | { starts_with: string }
  | { ends_with: string }
  | { contains: string }
  | { regex: string }
  | { or: MatchClause[] }
  | { and: MatchClause[] };

/** A "cliff" tier: once the call's input tokens exceed `start`, every token of the type pays `price`. */
export interface PriceTier {
  start: number;
  /** USD per million tokens, decimal text. */
  price: string;
}

/** A price in USD per million tokens: decimal text, or a base price with cliff tiers. */
export type TablePrice = string | { base: string; tiers: PriceTier[] };

/** The token prices the table keeps (text tokens only), in USD per million tokens. */
export const TOKEN_COMPONENTS = [
  'input',
  'output',
  'cacheRead',
  'cacheWrite',
  'cacheWrite1h',
] as const;
/** Per-call fees, in USD per thousand (requests, web searches): plain decimals, no tiers. */
export const FEE_COMPONENTS = ['request', 'webSearch'] as const;
/** Every price a row can have: the token prices, then the fees. */
export const PRICE_COMPONENTS = [...TOKEN_COMPONENTS, ...FEE_COMPONENTS] as const;
/**
 * `input`: fresh (uncached) input; `cacheRead`: input read from the cache; `cacheWrite`: input
 * written to the cache with the default (5-minute) lifetime; `cacheWrite1h`: with a 1-hour lifetime;
 * `output`: output tokens, reasoning included. Fees (USD per thousand): `request`: every call;
 * `webSearch`: each server-side web search the call made (genai-prices `requests_kcount`,
 * `web_searches_kcount`).
 */
export type PriceComponent = (typeof PRICE_COMPONENTS)[number];
export type FeeComponent = (typeof FEE_COMPONENTS)[number];
export const isFeeComponent = (c: string): c is FeeComponent =>
  (FEE_COMPONENTS as readonly string[]).includes(c);

export interface PricePeriod {
  /** ISO date (UTC midnight) from which these prices apply, or null for "since always". */
  effectiveFrom: string | null;
  /** A missing component has no price of its own (see computeCost for the fallbacks). */
  prices: Partial<Record<PriceComponent, TablePrice>>;
}

export interface TableModel {
  id: string;
  name: string;
  match: MatchClause;
  /** Ascending by effectiveFrom; the first one is "since always" (null). */
  periods: PricePeriod[];
}

/**
 * How a provider's long-context tiers apply (prior-art.md: tools disagree, so it is data):
 * - `cliff`: once the call's input tokens exceed a tier's `start`, every token of the call of a
 *   priced type pays that tier's price (genai-prices, LiteLLM, Langfuse);
 * - `marginal`: per token type, only the tokens past `start` pay the tier price (ccusage).
 * `cacheCountsTowardThreshold`: whether cache reads and writes count toward the threshold (true:
 * the conventions' input, cache included; false: fresh input only).
 */
export interface TierRule {
  mode: 'cliff' | 'marginal';
  cacheCountsTowardThreshold: boolean;
}

/** genai-prices' rule (../shared/data/SOURCES.md): cliff tiers on total input tokens, cache included. */
export const CLIFF_TIER_RULE: TierRule = Object.freeze({
  mode: 'cliff',
  cacheCountsTowardThreshold: true,
});

export interface TableProvider {
  /** genai-prices provider id, e.g. `anthropic`, `aws`, `google`. */
  id: string;
  name: string;
  /** Recognizes the provider from a provider name. */
  providerMatch: MatchClause | null;
  /** Recognizes the provider that makes a model from the model name (`claude…` → anthropic). */
  modelMatch: MatchClause | null;
  /** Providers whose models this one resells (Azure → OpenAI): tried when no own model matches. */
  fallbackProviders: string[];
  /** How its tiers apply; absent in a table = CLIFF_TIER_RULE. */
  tierRule?: TierRule;
  /** In source order: the first model whose `match` accepts the name wins. */
  models: TableModel[];
}

export interface PriceTableSource {
  name: string;
  repository: string;
  path: string;
  /** Upstream git commit the data file was taken at. */
  commit: string;
  license: string;
  /** The data file the table was generated from, relative to the repository root. */
  file: string;
  /** sha256 of that file, hex. */
  sha256: string;
}

export interface PriceTable {
  version: typeof PRICE_TABLE_VERSION;
  source: PriceTableSource;
  /** UTC date (YYYY-MM-DD) the table last changed. */
  generatedOn: string;
  /** Unit of every price in the table. */
  unit: 'USD per million tokens';
  /** What the generator left out or changed, and why. */
  notes: string[];
  /** Sorted by id. */
  providers: TableProvider[];
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** True for a real calendar date written YYYY-MM-DD. */
export function isIsoDate(s: string): boolean {
  if (!ISO_DATE.test(s)) return false;
  const t = Date.parse(`${s}T00:00:00Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === s;
}

type Json = unknown;

/** Checks a parsed JSON value deeply and returns it typed, or throws a PriceTableError naming the bad field. */
export function parsePriceTable(value: unknown, where = 'price table'): PriceTable {
  const fail = (path: string, what: string, got?: Json): never => {
    const shown = got === undefined ? '' : `, got ${preview(got)}`;
    throw new PriceTableError(
      `${where}: ${path || '(root)'}: expected ${what}${shown}. Regenerate it with \`npm run gen:prices\`.`,
    );
  };
  const obj = (v: Json, path: string): Record<string, Json> =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, Json>)
      : fail(path, 'an object', v);
  const arr = (v: Json, path: string): Json[] => (Array.isArray(v) ? v : fail(path, 'an array', v));
  const str = (v: Json, path: string): string =>
    typeof v === 'string' ? v : fail(path, 'a string', v);

  const t = obj(value, '');
  if (t.version !== PRICE_TABLE_VERSION) fail('version', `${PRICE_TABLE_VERSION}`, t.version);
  if (t.unit !== 'USD per million tokens') fail('unit', '"USD per million tokens"', t.unit);
  const generatedOn = str(t.generatedOn, 'generatedOn');
  if (!isIsoDate(generatedOn)) fail('generatedOn', 'a date YYYY-MM-DD', generatedOn);
  const s = obj(t.source, 'source');
  const source: PriceTableSource = {
    name: str(s.name, 'source.name'),
    repository: str(s.repository, 'source.repository'),
    path: str(s.path, 'source.path'),
    commit: str(s.commit, 'source.commit'),
    license: str(s.license, 'source.license'),
    file: str(s.file, 'source.file'),
    sha256: str(s.sha256, 'source.sha256'),
  };
  if (!/^[0-9a-f]{40}$/.test(source.commit))
    fail('source.commit', 'a 40-hex git commit', source.commit);
  if (!/^[0-9a-f]{64}$/.test(source.sha256))
    fail('source.sha256', 'a 64-hex sha256', source.sha256);
  const notes = arr(t.notes, 'notes').map((n, i) => str(n, `notes[${i}]`));

  const clause = (v: Json, path: string, depth = 0): MatchClause => {
    const o = obj(v, path);
    const keys = Object.keys(o);
    const key = keys[0];
    if (keys.length !== 1 || key === undefined)
      return fail(path, 'a match clause with exactly one key', v);
    if (depth > 16) return fail(path, 'match clauses nested at most 16 deep');
    if (key === 'or' || key === 'and') {
      const list = arr(o[key], `${path}.${key}`);
      if (list.length === 0) fail(`${path}.${key}`, 'at least one clause');
      const items = list.map((c, i) => clause(c, `${path}.${key}[${i}]`, depth + 1));
      return key === 'or' ? { or: items } : { and: items };
    }
    const text = str(o[key], `${path}.${key}`);
    switch (key) {
      case 'equals':
        return { equals: text };
      case 'starts_with':
        return { starts_with: text };
      case 'ends_with':
        return { ends_with: text };
      case 'contains':
        return { contains: text };
      case 'regex':
        try {
          new RegExp(text, 'i');
        } catch {
          fail(`${path}.regex`, 'a valid regular expression', text);
        }
        return { regex: text };
      default:
        return fail(path, 'one of equals, starts_with, ends_with, contains, regex, or, and', key);
    }
  };
  const optionalClause = (v: Json, path: string): MatchClause | null =>
    v === null ? null : clause(v, path);
  const decimal = (v: Json, path: string): string => {
    if (typeof v !== 'string' || !isDecimalPrice(v))
      fail(path, 'a decimal string in USD per million tokens, such as "3.75"', v);
    return v as string;
  };
  const price = (v: Json, path: string): TablePrice => {
    if (typeof v === 'string') return decimal(v, path);
    const o = obj(v, path);
    const tiers = arr(o.tiers, `${path}.tiers`).map((tv, i): PriceTier => {
      const to = obj(tv, `${path}.tiers[${i}]`);
      if (typeof to.start !== 'number' || !Number.isSafeInteger(to.start) || to.start < 0) {
        fail(`${path}.tiers[${i}].start`, 'a non-negative integer token count', to.start);
      }
      return { start: to.start as number, price: decimal(to.price, `${path}.tiers[${i}].price`) };
    });
    tiers.forEach((tier, i) => {
      const prev = tiers[i - 1];
      if (prev !== undefined && tier.start <= prev.start)
        fail(`${path}.tiers[${i}].start`, 'tiers in ascending order of start', tier.start);
    });
    return { base: decimal(o.base, `${path}.base`), tiers };
  };
  const period = (v: Json, path: string, i: number, prev: PricePeriod | undefined): PricePeriod => {
    const o = obj(v, path);
    const from = o.effectiveFrom;
    if (i === 0 && from !== null)
      fail(`${path}.effectiveFrom`, 'null (the first period applies since always)', from);
    if (i > 0 && (typeof from !== 'string' || !isIsoDate(from)))
      fail(`${path}.effectiveFrom`, 'a date YYYY-MM-DD', from);
    if (typeof from === 'string' && prev?.effectiveFrom != null && from <= prev.effectiveFrom) {
      fail(`${path}.effectiveFrom`, `a date after ${prev.effectiveFrom}`, from);
    }
    const po = obj(o.prices, `${path}.prices`);
    const prices: PricePeriod['prices'] = {};
    for (const [k, pv] of Object.entries(po)) {
      if (!(PRICE_COMPONENTS as readonly string[]).includes(k))
        fail(`${path}.prices`, `only ${PRICE_COMPONENTS.join(', ')}`, k);
      if (isFeeComponent(k) && typeof pv !== 'string')
        fail(
          `${path}.prices.${k}`,
          'a decimal string in USD per thousand (fees have no tiers)',
          pv,
        );
      prices[k as PriceComponent] = price(pv, `${path}.prices.${k}`);
    }
    return { effectiveFrom: from as string | null, prices };
  };

  const tierRule = (v: Json, path: string): TierRule => {
    const o = obj(v, path);
    if (o.mode !== 'cliff' && o.mode !== 'marginal')
      fail(`${path}.mode`, '"cliff" or "marginal"', o.mode);
    if (typeof o.cacheCountsTowardThreshold !== 'boolean')
      fail(`${path}.cacheCountsTowardThreshold`, 'true or false', o.cacheCountsTowardThreshold);
    return {
      mode: o.mode as TierRule['mode'],
      cacheCountsTowardThreshold: o.cacheCountsTowardThreshold as boolean,
    };
  };
  const ids = new Set<string>();
  const providers = arr(t.providers, 'providers').map((pv, pi): TableProvider => {
    const path = `providers[${pi}]`;
    const p = obj(pv, path);
    const id = str(p.id, `${path}.id`);
    if (id === '' || ids.has(id)) fail(`${path}.id`, 'a unique non-empty provider id', id);
    ids.add(id);
    const modelIds = new Set<string>();
    const models = arr(p.models, `${path}.models`).map((mv, mi): TableModel => {
      const mpath = `${path}.models[${mi}]`;
      const m = obj(mv, mpath);
      const mid = str(m.id, `${mpath}.id`);
      if (mid === '' || modelIds.has(mid))
        fail(`${mpath}.id`, `a model id unique within provider ${id}`, mid);
      modelIds.add(mid);
      const periodList = arr(m.periods, `${mpath}.periods`);
      if (periodList.length === 0) fail(`${mpath}.periods`, 'at least one price period');
      const periods: PricePeriod[] = [];
      periodList.forEach((v, i) =>
        periods.push(period(v, `${mpath}.periods[${i}]`, i, periods[i - 1])),
      );
      return {
        id: mid,
        name: str(m.name, `${mpath}.name`),
        match: clause(m.match, `${mpath}.match`),
        periods,
      };
    });
    return {
      id,
      name: str(p.name, `${path}.name`),
      providerMatch: optionalClause(p.providerMatch, `${path}.providerMatch`),
      modelMatch: optionalClause(p.modelMatch, `${path}.modelMatch`),
      fallbackProviders: arr(p.fallbackProviders, `${path}.fallbackProviders`).map((f, i) =>
        str(f, `${path}.fallbackProviders[${i}]`),
      ),
      ...(p.tierRule === undefined ? {} : { tierRule: tierRule(p.tierRule, `${path}.tierRule`) }),
      models,
    };
  });
  if (providers.length === 0) fail('providers', 'at least one provider');
  providers.forEach((p, pi) =>
    p.fallbackProviders.forEach((f, i) => {
      if (!ids.has(f))
        fail(`providers[${pi}].fallbackProviders[${i}]`, 'the id of a provider in the table', f);
    }),
  );
  return {
    version: PRICE_TABLE_VERSION,
    source,
    generatedOn,
    unit: 'USD per million tokens',
    notes,
    providers,
  };
}

function preview(v: Json): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** A compiled match clause: a predicate on a lowercased name. */
export type NameMatcher = (lowercasedName: string) => boolean;

/** Compiles a match clause once; literals compare case-insensitively, regexes get the `i` flag. */
export function compileMatch(clause: MatchClause): NameMatcher {
  if ('or' in clause) {
    const parts = clause.or.map(compileMatch);
    return (n) => parts.some((p) => p(n));
  }
  if ('and' in clause) {
    const parts = clause.and.map(compileMatch);
    return (n) => parts.every((p) => p(n));
  }
  if ('equals' in clause) {
    const s = clause.equals.toLowerCase();
    return (n) => n === s;
  }
  if ('starts_with' in clause) {
    const s = clause.starts_with.toLowerCase();
    return (n) => n.startsWith(s);
  }
  if ('ends_with' in clause) {
    const s = clause.ends_with.toLowerCase();
    return (n) => n.endsWith(s);
  }
  if ('contains' in clause) {
    const s = clause.contains.toLowerCase();
    return (n) => n.includes(s);
  }
  const re = new RegExp(clause.regex, 'i');
  return (n) => re.test(n);
}
