/**
 * Compiling price tables and overrides into the price book's rows: exact integer prices, row ids,
 * discounts, custom models and price changes. Used by book.ts only.
 */
import { mtokToPico } from './decimal.js';
import { PriceTableError } from './errors.js';
import { discountPico, type PriceDiscount, type PriceOverrides } from './overrides.js';
import {
  CLIFF_TIER_RULE,
  PRICE_COMPONENTS,
  type NameMatcher,
  type PriceComponent,
  type TablePrice,
  type TierRule,
} from './table.js';
import type { PicoPrice, PriceRow } from './book.js';

export interface CompiledModel {
  id: string;
  match: NameMatcher;
  /** Ascending; the first has fromMs null. Replaced (not mutated) when overrides apply. */
  periods: { fromMs: number | null; row: PriceRow }[];
}

export interface CompiledProvider {
  id: string;
  providerMatch: NameMatcher | null;
  modelMatch: NameMatcher | null;
  fallbacks: string[];
  models: CompiledModel[];
}

export function toPico(p: TablePrice | undefined): PicoPrice | null {
  if (p === undefined) return null;
  if (typeof p === 'string')
    return Object.freeze({ base: mtokToPico(p), tiers: Object.freeze([]) });
  const tiers = p.tiers.map((t) => Object.freeze({ start: t.start, price: mtokToPico(t.price) }));
  return Object.freeze({ base: mtokToPico(p.base), tiers: Object.freeze(tiers) });
}

export type RowPrices = Record<PriceComponent, PicoPrice | null>;

export function compilePrices(prices: Partial<Record<PriceComponent, TablePrice>>): RowPrices {
  return Object.fromEntries(PRICE_COMPONENTS.map((c) => [c, toPico(prices[c])])) as RowPrices;
}

export function dateMs(date: string | null): number | null {
  return date === null ? null : Date.parse(`${date}T00:00:00Z`);
}

export function makeRow(
  id: string,
  origin: PriceRow['origin'],
  provider: string,
  model: string,
  effectiveFrom: string | null,
  prices: RowPrices,
  tierRule: TierRule = CLIFF_TIER_RULE,
): PriceRow {
  return Object.freeze({
    id,
    origin,
    provider,
    model,
    effectiveFrom,
    prices: Object.freeze({ ...prices }),
    tierRule: Object.freeze({ ...tierRule }),
  });
}

/** A row's prices less a percentage (tiers included); its id says so. */
export function discounted(row: PriceRow, percent: string, from: string | null): PriceRow {
  const prices = Object.fromEntries(
    PRICE_COMPONENTS.map((c) => {
      const p = row.prices[c];
      if (p === null) return [c, null];
      return [
        c,
        Object.freeze({
          base: discountPico(p.base, percent),
          tiers: Object.freeze(
            p.tiers.map((t) => ({ start: t.start, price: discountPico(t.price, percent) })),
          ),
        }),
      ];
    }),
  ) as RowPrices;
  const split = from !== null && (row.effectiveFrom === null || row.effectiveFrom < from);
  return makeRow(
    `${row.id}+discount:${percent}%${split ? `@${from}` : ''}`,
    'override',
    row.provider,
    row.model,
    split ? from : row.effectiveFrom,
    prices,
    row.tierRule,
  );
}

/** Lowercased name variants to try: as given, then after the last `/` (`anthropic/claude-…`, `models/gemini-…`). */
export function nameCandidates(model: string): string[] {
  const name = model.trim().toLowerCase();
  const tail = name.slice(name.lastIndexOf('/') + 1);
  return tail !== name && tail !== '' ? [name, tail] : [name];
}

/** Prefix of the ids of rows the overrides file creates. */
export const OVERRIDE_ID_PREFIX = 'override';

export function modelIn(p: CompiledProvider, name: string): CompiledModel | undefined {
  const n = name.trim().toLowerCase();
  return (
    p.models.find((m) => m.id.toLowerCase() === n) ??
    p.models.find((m) => nameCandidates(name).some((c) => m.match(c)))
  );
}

/**
 * Applies the overrides to the compiled providers, in place: custom models first (ahead of the
 * bundled ones of their provider), then price changes in date order, then discounts (a model's
 * own discount replaces its provider's). Returns the providers that got custom models: they are
 * searched first when a span names no known provider. Throws PriceTableError for a name no table knows.
 */
export function applyOverrides(
  overrides: PriceOverrides,
  providers: CompiledProvider[],
  byId: Map<string, CompiledProvider>,
  providerNamed: (name: string) => CompiledProvider | undefined,
): CompiledProvider[] {
  const where = overrides.file ?? 'price overrides';
  const fail = (path: string, what: string): never => {
    throw new PriceTableError(`${where}: ${path}: ${what}`, { code: 'PRICE_OVERRIDES_INVALID' });
  };
  const custom: CompiledProvider[] = [];
  overrides.models.forEach((m) => {
    let p = providerNamed(m.provider);
    if (p === undefined) {
      const id = m.provider.trim().toLowerCase();
      p = { id, providerMatch: (n) => n === id, modelMatch: null, fallbacks: [], models: [] };
      providers.push(p);
      byId.set(id, p);
    }
    if (!custom.includes(p)) custom.push(p);
    const matchers = m.match.map((name): NameMatcher => {
      const n = name.toLowerCase();
      return n.endsWith('*') ? (x) => x.startsWith(n.slice(0, -1)) : (x) => x === n;
    });
    p.models.unshift({
      id: m.id,
      match: (n) => matchers.some((f) => f(n)),
      periods: [
        {
          fromMs: null,
          row: makeRow(
            `${OVERRIDE_ID_PREFIX}:${p.id}:${m.id}@-`,
            'override',
            p.id,
            m.id,
            null,
            compilePrices(m.prices),
          ),
        },
      ],
    });
  });

  const changes = overrides.priceChanges
    .map((c, i) => ({ c, i }))
    .sort((a, b) => (a.c.from < b.c.from ? -1 : a.c.from > b.c.from ? 1 : a.i - b.i));
  for (const { c, i } of changes) {
    const path = `priceChanges[${i}]`;
    const p =
      providerNamed(c.provider) ??
      fail(
        `${path}.provider`,
        `no provider ${JSON.stringify(c.provider)} in the bundled table or in "models"`,
      );
    const m =
      modelIn(p, c.model) ??
      fail(
        `${path}.model`,
        `provider ${p.id} has no model ${JSON.stringify(c.model)}; declare a custom model under "models" first`,
      );
    const fromMs = dateMs(c.from) ?? 0;
    const kept = m.periods.filter((x) => x.fromMs === null || x.fromMs < fromMs);
    const before = kept.at(-1)?.row.prices;
    const given = compilePrices(c.prices);
    const prices = Object.fromEntries(
      PRICE_COMPONENTS.map((k) => [
        k,
        c.prices[k] === undefined ? (before?.[k] ?? null) : given[k],
      ]),
    ) as RowPrices;
    kept.push({
      fromMs,
      row: makeRow(
        `${OVERRIDE_ID_PREFIX}:${p.id}:${m.id}@${c.from}`,
        'override',
        p.id,
        m.id,
        c.from,
        prices,
        kept.at(-1)?.row.tierRule,
      ),
    });
    m.periods = kept;
  }

  const byModel = new Map<CompiledModel, PriceDiscount>();
  const byProvider = new Map<CompiledProvider, PriceDiscount>();
  overrides.discounts.forEach((d, i) => {
    const path = `discounts[${i}]`;
    const p =
      providerNamed(d.provider) ??
      fail(
        `${path}.provider`,
        `no provider ${JSON.stringify(d.provider)} in the bundled table or in "models"`,
      );
    if (d.model === null) byProvider.set(p, d);
    else
      byModel.set(
        modelIn(p, d.model) ??
          fail(`${path}.model`, `provider ${p.id} has no model ${JSON.stringify(d.model)}`),
        d,
      );
  });
  for (const p of providers) {
    for (const m of p.models) {
      const d = byModel.get(m) ?? byProvider.get(p);
      if (d !== undefined) m.periods = applyDiscount(m.periods, d);
    }
  }
  return custom;
}

export function applyDiscount(
  periods: CompiledModel['periods'],
  d: PriceDiscount,
): CompiledModel['periods'] {
  const fromMs = dateMs(d.from);
  const out: CompiledModel['periods'] = [];
  periods.forEach((cur, k) => {
    if (fromMs === null || (cur.fromMs !== null && cur.fromMs >= fromMs)) {
      out.push({ fromMs: cur.fromMs, row: discounted(cur.row, d.percent, null) });
      return;
    }
    out.push(cur);
    const nextFrom = periods[k + 1]?.fromMs ?? Number.POSITIVE_INFINITY;
    if (fromMs < nextFrom) out.push({ fromMs, row: discounted(cur.row, d.percent, d.from) });
  });
  return out;
}
