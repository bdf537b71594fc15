/**
 * User price overrides (HM_PRICES_FILE): negotiated discounts, custom and self-hosted models, and
 * price changes effective from a date. They apply on top of the bundled table inside the price
 * book (createPriceBook(table, overrides)); a row they produce or modify says so in its id.
 *
 * The file is JSON; prices are USD per million tokens, as decimal strings ("0.25") or numbers:
 *
 * {
 *   "discounts": [
 *     { "provider": "anthropic", "percent": 15 },
 *     { "provider": "openai", "model": "gpt-4o", "percent": "12.5", "from": "2026-01-01" }
 *   ],
 *   "models": [
 *     { "provider": "acme", "id": "acme-coder-70b", "match": ["acme-coder-70b", "acme-coder-70b-*"],
 *       "prices": { "input": "0.2", "output": "0.6" } }
 *   ],
 *   "priceChanges": [
 *     { "provider": "anthropic", "model": "claude-sonnet-4-5", "from": "2026-12-01",
 *       "prices": { "input": "2.5", "output": "12.5" } }
 *   ]
 * }
 */
import { readFileSync } from 'node:fs';
import { isDecimalPrice } from './decimal.js';
import { PriceTableError } from './errors.js';
import {
  isIsoDate,
  PRICE_COMPONENTS,
  isFeeComponent,
  type PriceComponent,
  type PriceTier,
  type TablePrice,
} from './table.js';

/** A negotiated discount: a percentage off every price of a provider, or of one of its models. */
export interface PriceDiscount {
  /** Provider id or `gen_ai.provider.name` (`anthropic`, `aws.bedrock`, …). */
  provider: string;
  /** Model id or name; null = every model of the provider. */
  model: string | null;
  /** Exact decimal text, greater than 0 and less than 100, e.g. "15" or "12.5". */
  percent: string;
  /** ISO date from which the discount applies; null = since always. */
  from: string | null;
}

/** A model the bundled table does not know (self-hosted, fine-tuned, a private deployment). */
export interface CustomModel {
  provider: string;
  id: string;
  /** Names that select it (case-insensitive); a trailing `*` makes a prefix. */
  match: string[];
  prices: Partial<Record<PriceComponent, TablePrice>>;
}

/** New prices for a model (bundled or custom) from a date on; later bundled periods are superseded. */
export interface PriceChange {
  provider: string;
  model: string;
  from: string;
  /** Components not given keep the price in force the day before `from`. */
  prices: Partial<Record<PriceComponent, TablePrice>>;
}

export interface PriceOverrides {
  /** The file they were read from (shown by `prices show`), or null when built in code. */
  file: string | null;
  discounts: PriceDiscount[];
  models: CustomModel[];
  priceChanges: PriceChange[];
}

/** No overrides. */
export const NO_OVERRIDES: PriceOverrides = Object.freeze({
  file: null,
  discounts: [],
  models: [],
  priceChanges: [],
});

const EXAMPLE =
  'e.g. {"discounts":[{"provider":"anthropic","percent":15}],"models":[{"provider":"acme","id":"acme-coder","match":["acme-coder"],"prices":{"input":"0.2","output":"0.6"}}],"priceChanges":[{"provider":"openai","model":"gpt-4o","from":"2026-12-01","prices":{"input":"2"}}]}';

const PERCENT = /^(0|[1-9]\d?)(\.\d{1,4})?$/;

function preview(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * Checks a parsed overrides value and returns it typed, or throws PriceTableError
 * (PRICE_OVERRIDES_INVALID) naming the field, what was expected, and an example.
 */
export function parsePriceOverrides(value: unknown, file: string | null = null): PriceOverrides {
  const where = file ?? 'price overrides';
  const fail = (path: string, what: string, example: string, got?: unknown): never => {
    const shown = got === undefined ? '' : ` (got ${preview(got)})`;
    throw new PriceTableError(
      `${where}: ${path || '(root)'}: expected ${what}${shown}, ${example}`,
      {
        code: 'PRICE_OVERRIDES_INVALID',
      },
    );
  };
  const obj = (v: unknown, path: string, example: string): Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : fail(path, 'an object', example, v);
  const onlyKeys = (o: Record<string, unknown>, path: string, keys: string[], ex: string): void => {
    for (const k of Object.keys(o))
      if (!keys.includes(k)) fail(path, `only the fields ${keys.join(', ')}`, ex, k);
  };
  const list = (v: unknown, path: string, example: string): unknown[] =>
    v === undefined ? [] : Array.isArray(v) ? v : fail(path, 'an array', example, v);
  const name = (v: unknown, path: string, example: string): string =>
    typeof v === 'string' && v.trim() !== ''
      ? v.trim()
      : fail(path, 'a non-empty string', example, v);
  const date = (v: unknown, path: string): string =>
    typeof v === 'string' && isIsoDate(v)
      ? v
      : fail(path, 'a date YYYY-MM-DD', 'e.g. "2026-12-01"', v);
  const decimal = (v: unknown, path: string): string => {
    const text = typeof v === 'number' && Number.isFinite(v) ? String(v) : v;
    return typeof text === 'string' && isDecimalPrice(text)
      ? text
      : fail(path, 'a non-negative price in USD per million tokens', 'e.g. "3.75" or 3.75', v);
  };
  const prices = (
    v: unknown,
    path: string,
    requireOne: boolean,
  ): Partial<Record<PriceComponent, TablePrice>> => {
    const ex = 'e.g. "prices": {"input": "3", "output": "15", "cacheRead": "0.3"}';
    const o = obj(v, path, ex);
    const out: Partial<Record<PriceComponent, TablePrice>> = {};
    for (const [k, pv] of Object.entries(o)) {
      if (!(PRICE_COMPONENTS as readonly string[]).includes(k))
        fail(`${path}.${k}`, `a price component: ${PRICE_COMPONENTS.join(', ')}`, ex);
      const ppath = `${path}.${k}`;
      if (isFeeComponent(k) && typeof pv !== 'string')
        fail(ppath, 'a fee in USD per thousand as a decimal string (fees have no tiers)', ex, pv);
      if (typeof pv === 'object' && pv !== null && !Array.isArray(pv)) {
        const tex = 'e.g. {"base": "3", "tiers": [{"start": 200000, "price": "6"}]}';
        const po = obj(pv, ppath, tex);
        onlyKeys(po, ppath, ['base', 'tiers'], tex);
        let prev = -1;
        const tiers = list(po.tiers, `${ppath}.tiers`, tex).map((tv, i): PriceTier => {
          const to = obj(tv, `${ppath}.tiers[${i}]`, tex);
          const start = to.start;
          if (typeof start !== 'number' || !Number.isSafeInteger(start) || start <= prev)
            fail(
              `${ppath}.tiers[${i}].start`,
              'an integer token count above the previous tier',
              tex,
              start,
            );
          prev = start as number;
          return { start: start as number, price: decimal(to.price, `${ppath}.tiers[${i}].price`) };
        });
        out[k as PriceComponent] = { base: decimal(po.base, `${ppath}.base`), tiers };
      } else {
        out[k as PriceComponent] = decimal(pv, ppath);
      }
    }
    if (requireOne && out.input === undefined && out.output === undefined)
      fail(path, 'at least an input or an output price', ex, v);
    if (!requireOne && Object.keys(out).length === 0) fail(path, 'at least one price', ex, v);
    return out;
  };

  const root = obj(value, '', EXAMPLE);
  onlyKeys(root, '', ['$schema', 'comment', 'discounts', 'models', 'priceChanges'], EXAMPLE);

  const dex =
    'e.g. {"provider": "anthropic", "percent": 15} or {"provider": "openai", "model": "gpt-4o", "percent": "12.5", "from": "2026-01-01"}';
  const seen = new Set<string>();
  const discounts = list(root.discounts, 'discounts', dex).map((v, i): PriceDiscount => {
    const path = `discounts[${i}]`;
    const o = obj(v, path, dex);
    onlyKeys(o, path, ['provider', 'model', 'percent', 'from', 'comment'], dex);
    const pct =
      typeof o.percent === 'number' && Number.isFinite(o.percent) ? String(o.percent) : o.percent;
    if (typeof pct !== 'string' || !PERCENT.test(pct) || Number(pct) <= 0)
      fail(
        `${path}.percent`,
        'a percentage greater than 0 and less than 100 (at most 4 decimals)',
        'e.g. "percent": 15',
        o.percent,
      );
    const d: PriceDiscount = {
      provider: name(o.provider, `${path}.provider`, dex),
      model: o.model === undefined || o.model === null ? null : name(o.model, `${path}.model`, dex),
      percent: pct as string,
      from: o.from === undefined || o.from === null ? null : date(o.from, `${path}.from`),
    };
    const key = `${d.provider.toLowerCase()}\u0000${d.model?.toLowerCase() ?? '*'}`;
    if (seen.has(key))
      fail(
        path,
        `one discount per provider and model (${d.provider}${d.model === null ? '' : ` / ${d.model}`} appears twice)`,
        dex,
      );
    seen.add(key);
    return d;
  });

  const mex =
    'e.g. {"provider": "acme", "id": "acme-coder-70b", "match": ["acme-coder-70b", "acme/coder-*"], "prices": {"input": "0.2", "output": "0.6"}}';
  const ids = new Set<string>();
  const models = list(root.models, 'models', mex).map((v, i): CustomModel => {
    const path = `models[${i}]`;
    const o = obj(v, path, mex);
    onlyKeys(o, path, ['provider', 'id', 'match', 'prices', 'comment'], mex);
    const provider = name(o.provider, `${path}.provider`, mex);
    const id = name(o.id, `${path}.id`, mex);
    if (ids.has(`${provider}\u0000${id}`.toLowerCase()))
      fail(`${path}.id`, `a model id unique within provider ${provider}`, mex, id);
    ids.add(`${provider}\u0000${id}`.toLowerCase());
    const match =
      o.match === undefined
        ? [id]
        : list(o.match, `${path}.match`, mex).map((n, j) => name(n, `${path}.match[${j}]`, mex));
    if (match.length === 0) fail(`${path}.match`, 'at least one model name', mex);
    return { provider, id, match, prices: prices(o.prices, `${path}.prices`, true) };
  });

  const cex =
    'e.g. {"provider": "anthropic", "model": "claude-sonnet-4-5", "from": "2026-12-01", "prices": {"input": "2.5"}}';
  const priceChanges = list(root.priceChanges, 'priceChanges', cex).map((v, i): PriceChange => {
    const path = `priceChanges[${i}]`;
    const o = obj(v, path, cex);
    onlyKeys(o, path, ['provider', 'model', 'from', 'prices', 'comment'], cex);
    return {
      provider: name(o.provider, `${path}.provider`, cex),
      model: name(o.model, `${path}.model`, cex),
      from:
        o.from === undefined
          ? fail(`${path}.from`, 'a date YYYY-MM-DD', cex)
          : date(o.from, `${path}.from`),
      prices: prices(o.prices, `${path}.prices`, false),
    };
  });
  return { file, discounts, models, priceChanges };
}

/** Reads and checks an overrides file (HM_PRICES_FILE). Throws PriceTableError naming what is wrong. */
export function loadPriceOverrides(path: string): PriceOverrides {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PriceTableError(
      `cannot read the price overrides file ${path} (HM_PRICES_FILE): ${err instanceof Error ? err.message : String(err)}`,
      {
        code: 'PRICE_OVERRIDES_INVALID',
        cause: err,
      },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new PriceTableError(
      `${path} (HM_PRICES_FILE) is not valid JSON: ${err instanceof Error ? err.message : String(err)}; ${EXAMPLE}`,
      {
        code: 'PRICE_OVERRIDES_INVALID',
        cause: err,
      },
    );
  }
  return parsePriceOverrides(value, path);
}

/**
 * A pico-USD price less a percentage, rounded half up to whole pico-USD.
 * @example discountPico(3_000_000n, '15') === 2_550_000n
 */
export function discountPico(pico: bigint, percent: string): bigint {
  const [whole = '0', frac = ''] = percent.split('.');
  const scale = 10n ** BigInt(frac.length);
  const pct = BigInt(whole + frac); // percent × scale
  const denominator = 100n * scale;
  const numerator = pico * (denominator - pct);
  return (numerator * 2n + denominator) / (denominator * 2n);
}
