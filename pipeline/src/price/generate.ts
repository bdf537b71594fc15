/**
 * Generates the committed price table, pipeline/data/prices.json, from pydantic/genai-prices v2
 * data (../shared/data/genai-prices-v2-data.json, see ../shared/data/SOURCES.md).
 *
 *   npm run gen:prices                      # = tsc -b && node pipeline/dist/price/generate.js
 *   node pipeline/dist/price/generate.js [SOURCE.json] [OUTPUT.json] [--date=YYYY-MM-DD] [--commit=SHA] [--check]
 *
 * Deterministic: the same source gives the same bytes. Keys are sorted, except that the long lists
 * come last (the table's `notes` and `providers`, a provider's `models`); providers are sorted by id;
 * models keep the source order because the first matching model wins. `generatedOn` is kept from
 * the existing output when nothing else changed, so regenerating unchanged data rewrites the
 * identical file.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isDecimalPrice } from './decimal.js';
import { PriceTableError } from './errors.js';
import { JsonNumberText, parseJsonKeepingNumbers, type SourceJson } from './source-json.js';
import {
  CLIFF_TIER_RULE,
  isIsoDate,
  parsePriceTable,
  PRICE_TABLE_VERSION,
  type MatchClause,
  type PriceComponent,
  type PricePeriod,
  type PriceTable,
  type PriceTier,
  type TableModel,
  type TablePrice,
  type TableProvider,
} from './table.js';

/** The upstream file this generator is pinned to (SOURCES.md). */
export const GENAI_PRICES_UPSTREAM = {
  name: 'genai-prices v2',
  repository: 'pydantic/genai-prices',
  path: 'prices/new_data/v2/data.json',
  commit: '47df840a5ab10bbcffb8e5ac01b9899032245d1b',
  sha256: 'e0364c430e72dac6e747f15093a853bb73f20becac9e54f1f1e6ca33d72dda4d',
  license: 'MIT (Copyright (c) Pydantic Services Inc.)',
} as const;

/** Default input, relative to the repository root. */
export const DEFAULT_SOURCE_FILE = '../shared/data/genai-prices-v2-data.json';
/** Default output, relative to the repository root. */
export const DEFAULT_OUTPUT_FILE = 'pipeline/data/prices.json';

/** genai-prices price keys → table components. Everything else is dropped with a note. */
const KEY_MAP: Readonly<Record<string, PriceComponent>> = {
  input_mtok: 'input',
  output_mtok: 'output',
  cache_read_mtok: 'cacheRead',
  cache_write_mtok: 'cacheWrite',
  cache_write_5m_mtok: 'cacheWrite',
  cache_write_1h_mtok: 'cacheWrite1h',
  // Fees in USD per thousand: the same decimal, another unit (table.ts FEE_COMPONENTS).
  requests_kcount: 'request',
  web_searches_kcount: 'webSearch',
};

/** Dropped keys that change what a text call costs: the note names every model concerned. */
const DROPPED_KEYS_THAT_MATTER: Readonly<Record<string, string>> = {
  output_reasoning_mtok: 'reasoning tokens are priced at the output price instead',
};

export interface GenerateOptions {
  /** The source file as recorded in the table, relative to the repository root. */
  sourceFile: string;
  /** The date recorded as generatedOn, YYYY-MM-DD (UTC). */
  generatedOn: string;
  /**
   * Upstream commit of the source file. Needed only when the file is not the pinned one
   * (its sha256 differs); otherwise the pinned commit is recorded.
   */
  commit?: string;
}

/** Builds the table from the text of a genai-prices v2 data.json. */
export function generatePriceTable(sourceText: string, options: GenerateOptions): PriceTable {
  const sha256 = createHash('sha256').update(sourceText, 'utf8').digest('hex');
  const pinned = sha256 === GENAI_PRICES_UPSTREAM.sha256;
  const commit = options.commit ?? (pinned ? GENAI_PRICES_UPSTREAM.commit : undefined);
  if (commit === undefined || !/^[0-9a-f]{40}$/.test(commit)) {
    throw new PriceTableError(
      `${options.sourceFile} (sha256 ${sha256}) is not the pinned genai-prices file ` +
        `(${GENAI_PRICES_UPSTREAM.commit}); pass --commit=<40-hex upstream commit> naming the commit it was copied at.`,
      { code: 'PRICE_SOURCE_INVALID' },
    );
  }
  if (!isIsoDate(options.generatedOn)) {
    throw new PriceTableError(
      `generatedOn must be a date YYYY-MM-DD, got ${JSON.stringify(options.generatedOn)}`,
      {
        code: 'PRICE_SOURCE_INVALID',
      },
    );
  }
  const root = parseJsonKeepingNumbers(sourceText, options.sourceFile);
  const notes = new Notes();
  const providers = list(root, 'providers')
    .map((p, i) => provider(p, `[${i}]`, notes))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const table: PriceTable = {
    version: PRICE_TABLE_VERSION,
    source: {
      name: GENAI_PRICES_UPSTREAM.name,
      repository: GENAI_PRICES_UPSTREAM.repository,
      path: GENAI_PRICES_UPSTREAM.path,
      commit,
      license: GENAI_PRICES_UPSTREAM.license,
      file: options.sourceFile,
      sha256,
    },
    generatedOn: options.generatedOn,
    unit: 'USD per million tokens',
    notes: notes.render(),
    providers,
  };
  // The generator's output must pass the same checks as the loader's input.
  return parsePriceTable(table, 'generated table');
}

// --- reading the source ---

function bad(path: string, what: string): never {
  throw new PriceTableError(`genai-prices data ${path}: expected ${what}`, {
    code: 'PRICE_SOURCE_INVALID',
  });
}

function record(v: SourceJson | undefined, path: string): Record<string, SourceJson> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof JsonNumberText)
    return bad(path, 'an object');
  return v;
}

function list(v: SourceJson | undefined, path: string): SourceJson[] {
  return Array.isArray(v) ? v : bad(path, 'an array');
}

function text(v: SourceJson | undefined, path: string): string {
  return typeof v === 'string' ? v : bad(path, 'a string');
}

function decimalText(v: SourceJson | undefined, path: string): string {
  if (!(v instanceof JsonNumberText) || !isDecimalPrice(v.text))
    return bad(path, 'a non-negative number');
  return v.text;
}

function clause(v: SourceJson | undefined, path: string): MatchClause {
  const o = record(v, path);
  const [key, ...rest] = Object.keys(o);
  if (key === undefined || rest.length > 0) return bad(path, 'a match clause with one key');
  const inner = o[key];
  switch (key) {
    case 'or':
      return { or: list(inner, `${path}.or`).map((c, i) => clause(c, `${path}.or[${i}]`)) };
    case 'and':
      return { and: list(inner, `${path}.and`).map((c, i) => clause(c, `${path}.and[${i}]`)) };
    case 'equals':
      return { equals: text(inner, `${path}.equals`) };
    case 'starts_with':
      return { starts_with: text(inner, `${path}.starts_with`) };
    case 'ends_with':
      return { ends_with: text(inner, `${path}.ends_with`) };
    case 'contains':
      return { contains: text(inner, `${path}.contains`) };
    case 'regex':
      return { regex: text(inner, `${path}.regex`) };
    default:
      return bad(path, `a known match clause, not ${JSON.stringify(key)}`);
  }
}

function provider(v: SourceJson, path: string, notes: Notes): TableProvider {
  const p = record(v, path);
  const id = text(p.id, `${path}.id`);
  const fallback = p.fallback_model_providers;
  return {
    id,
    name: text(p.name, `${path}.name`),
    providerMatch:
      p.provider_match === undefined ? null : clause(p.provider_match, `${path}.provider_match`),
    modelMatch: p.model_match === undefined ? null : clause(p.model_match, `${path}.model_match`),
    fallbackProviders:
      fallback === undefined
        ? []
        : list(fallback, `${path}.fallback_model_providers`).map((f, i) =>
            text(f, `${path}.fallback_model_providers[${i}]`),
          ),
    // genai-prices documents one rule for every provider: cliff tiers on total input (cache included).
    tierRule: { ...CLIFF_TIER_RULE },
    models: list(p.models, `${path}.models`).map((m, i) =>
      model(m, `${path}.models[${i}]`, id, notes),
    ),
  };
}

interface SourceEntry {
  startDate: string | null;
  timeOfDay: string | null;
  prices: PricePeriod['prices'];
}

function model(v: SourceJson, path: string, providerId: string, notes: Notes): TableModel {
  const m = record(v, path);
  const id = text(m.id, `${path}.id`);
  const ref = `${providerId}/${id}`;
  const raw = m.prices;
  const entries: SourceEntry[] = Array.isArray(raw)
    ? raw.map((e, i) => entry(e, `${path}.prices[${i}]`, ref, notes))
    : [{ startDate: null, timeOfDay: null, prices: priceSet(raw, `${path}.prices`, ref, notes) }];
  if (entries.length === 0) bad(`${path}.prices`, 'at least one price');
  return {
    id,
    name: m.name === undefined ? id : text(m.name, `${path}.name`),
    match: clause(m.match, `${path}.match`),
    periods: periods(entries, ref, notes),
  };
}

function entry(v: SourceJson, path: string, ref: string, notes: Notes): SourceEntry {
  const e = record(v, path);
  const prices = priceSet(e.prices, `${path}.prices`, ref, notes);
  if (e.constraint === undefined || e.constraint === null)
    return { startDate: null, timeOfDay: null, prices };
  const c = record(e.constraint, `${path}.constraint`);
  if (c.start_date !== undefined) {
    const date = text(c.start_date, `${path}.constraint.start_date`);
    if (!isIsoDate(date)) bad(`${path}.constraint.start_date`, 'a date YYYY-MM-DD');
    return { startDate: date, timeOfDay: null, prices };
  }
  if (c.start_time !== undefined && c.end_time !== undefined) {
    const window = `${text(c.start_time, `${path}.constraint.start_time`)}–${text(c.end_time, `${path}.constraint.end_time`)}`;
    return { startDate: null, timeOfDay: window, prices };
  }
  return bad(`${path}.constraint`, 'start_date, or start_time and end_time');
}

/**
 * genai-prices semantics: of a model's price list, the LAST entry whose constraint holds applies,
 * and the first entry when none holds. Time-of-day windows are not modelled: they are taken as
 * always holding, which is what makes a later windowed entry replace the one before it. The result
 * is a list of periods, one per date where the price in force changes.
 */
function periods(entries: SourceEntry[], ref: string, notes: Notes): PricePeriod[] {
  const dates = [
    ...new Set(entries.flatMap((e) => (e.startDate === null ? [] : [e.startDate]))),
  ].sort();
  const inForce = (at: string | null): number => {
    for (let i = entries.length - 1; i >= 0; i--) {
      const d = entries[i]?.startDate ?? null;
      if (d === null || (at !== null && d <= at)) return i;
    }
    return 0;
  };
  const out: PricePeriod[] = [];
  const used = new Set<number>();
  let last = '';
  for (const at of [null, ...dates]) {
    const i = inForce(at);
    const prices = entries[i]?.prices ?? {};
    const key = canonical(prices);
    used.add(i);
    if (key === last) continue;
    last = key;
    out.push({ effectiveFrom: at, prices });
  }
  const windows = entries.filter((e) => e.timeOfDay !== null);
  entries.forEach((e, i) => {
    if (used.has(i)) return;
    if (windows.length > 0) {
      const w = windows.map((x) => x.timeOfDay).join(', ');
      notes.add(
        'time-of-day windows are not modelled: the windowed price applies at all hours, the price for the other hours is dropped',
        `${ref} (window ${w}; dropped ${canonical(e.prices)})`,
      );
    } else {
      notes.add('price entries never in force were dropped', `${ref} entry ${i}`);
    }
  });
  return out;
}

function priceSet(
  v: SourceJson | undefined,
  path: string,
  ref: string,
  notes: Notes,
): PricePeriod['prices'] {
  const o = record(v, path);
  const out: PricePeriod['prices'] = {};
  for (const key of Object.keys(o).sort()) {
    const component = KEY_MAP[key];
    if (component === undefined) {
      const why = DROPPED_KEYS_THAT_MATTER[key];
      if (why !== undefined) notes.add(`\`${key}\` dropped: ${why}`, ref);
      else notes.count(`\`${key}\` dropped (not a text-token price)`);
      continue;
    }
    // cache_write_5m_mtok is the explicit name of cache_write_mtok; it wins when both are given.
    if (
      component === 'cacheWrite' &&
      key === 'cache_write_mtok' &&
      o.cache_write_5m_mtok !== undefined
    )
      continue;
    const price = tablePrice(o[key], `${path}.${key}`);
    out[component] = price;
    for (const t of typeof price === 'string'
      ? [price]
      : [price.base, ...price.tiers.map((x) => x.price)]) {
      if (decimalPlaces(t) > 6)
        notes.add(
          'prices finer than 1e-6 USD/MTok (float artifacts upstream) round half up to whole pico-USD per token',
          `${ref} ${key} ${t}`,
        );
    }
  }
  return out;
}

function tablePrice(v: SourceJson | undefined, path: string): TablePrice {
  if (v instanceof JsonNumberText) return decimalText(v, path);
  const o = record(v, path);
  const tiers = list(o.tiers, `${path}.tiers`).map((t, i): PriceTier => {
    const to = record(t, `${path}.tiers[${i}]`);
    const start = Number(decimalText(to.start, `${path}.tiers[${i}].start`));
    if (!Number.isSafeInteger(start)) bad(`${path}.tiers[${i}].start`, 'an integer token count');
    return { start, price: decimalText(to.price, `${path}.tiers[${i}].price`) };
  });
  return {
    base: decimalText(o.base, `${path}.base`),
    tiers: tiers.sort((a, b) => a.start - b.start),
  };
}

/** Decimal places of a decimal literal once its exponent is applied: "0.18000000000000002" → 17. */
function decimalPlaces(t: string): number {
  const m = /^\d+(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(t);
  return (m?.[1]?.length ?? 0) - Number(m?.[2] ?? '0');
}

/** Notes in a fixed order: one line per topic, naming what it concerns. */
class Notes {
  private readonly topics = new Map<string, string[]>();
  private readonly counts = new Map<string, number>();
  add(topic: string, item: string): void {
    const items = this.topics.get(topic) ?? [];
    items.push(item);
    this.topics.set(topic, items);
  }
  count(topic: string): void {
    this.counts.set(topic, (this.counts.get(topic) ?? 0) + 1);
  }
  render(): string[] {
    const lines = [...this.topics].map(
      ([topic, items]) => `${topic}: ${[...new Set(items)].sort().join('; ')}`,
    );
    lines.push(...[...this.counts].map(([topic, n]) => `${topic}: ${n} price set(s)`));
    return lines.sort();
  }
}

// --- writing ---

/** JSON with object keys sorted, no whitespace. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Object body with sorted keys, leaving out `omit` (rendered after it by the caller). */
function fields(o: object, omit: string): string {
  const rec = o as Record<string, unknown>;
  return Object.keys(rec)
    .filter((k) => k !== omit && rec[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(rec[k])}`)
    .join(',');
}

/** The table as committed: valid JSON, one line per note, provider and model, for readable diffs. */
export function renderPriceTable(table: PriceTable): string {
  const lines: string[] = [];
  lines.push('{' + fields({ ...table, notes: undefined }, 'providers') + ',');
  lines.push('"notes":[');
  table.notes.forEach((n, i) =>
    lines.push(JSON.stringify(n) + (i < table.notes.length - 1 ? ',' : '')),
  );
  lines.push('],');
  lines.push('"providers":[');
  table.providers.forEach((p, pi) => {
    lines.push('{' + fields(p, 'models') + ',"models":[');
    p.models.forEach((m, mi) => lines.push(canonical(m) + (mi < p.models.length - 1 ? ',' : '')));
    lines.push(']}' + (pi < table.providers.length - 1 ? ',' : ''));
  });
  lines.push(']}');
  return lines.join('\n') + '\n';
}

// --- command line ---

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** Runs the generator as a command; returns the exit code. */
export function runGenerator(argv: readonly string[], cwd = process.cwd()): number {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      date: { type: 'string' },
      commit: { type: 'string' },
      check: { type: 'boolean', default: false },
    },
  });
  const source = resolve(cwd, positionals[0] ?? resolve(REPO_ROOT, DEFAULT_SOURCE_FILE));
  const output = resolve(cwd, positionals[1] ?? resolve(REPO_ROOT, DEFAULT_OUTPUT_FILE));
  const sourceFile = relative(REPO_ROOT, source).split(sep).join('/');
  const options = (generatedOn: string): GenerateOptions => ({
    sourceFile,
    generatedOn,
    ...(values.commit === undefined ? {} : { commit: values.commit }),
  });
  const sourceText = readFileSync(source, 'utf8');
  const previous = existsSync(output) ? readFileSync(output, 'utf8') : undefined;
  let generatedOn = values.date ?? today();
  if (values.date === undefined && previous !== undefined) {
    // Keep the recorded date when only the date would change.
    const kept = /"generatedOn":"(\d{4}-\d{2}-\d{2})"/.exec(previous)?.[1];
    if (
      kept !== undefined &&
      renderPriceTable(generatePriceTable(sourceText, options(kept))) === previous
    )
      generatedOn = kept;
  }
  const table = generatePriceTable(sourceText, options(generatedOn));
  const rendered = renderPriceTable(table);
  const models = table.providers.reduce((n, p) => n + p.models.length, 0);
  const summary = `${table.providers.length} providers, ${models} models, ${table.notes.length} notes, ${Buffer.byteLength(rendered)} bytes`;
  if (values.check) {
    const same = rendered === previous;
    process.stdout.write(
      `${output} is ${same ? 'up to date' : 'OUT OF DATE: run npm run gen:prices'} (${summary})\n`,
    );
    return same ? 0 : 1;
  }
  writeFileSync(output, rendered);
  process.stdout.write(`wrote ${output}: ${summary}\n`);
  return 0;
}

function isMain(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  try {
    process.exitCode = runGenerator(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(
      `gen:prices failed: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exitCode = 1;
  }
}
