/**
 * `harness-meter prices show`: how a model name resolves, the price row in force at a date, each
 * price in USD per million tokens, and where it comes from. Pure: returns the text to print.
 */
import type { PicoPrice, PriceBook, PriceRow } from './book.js';
import { picoToMtokText } from './decimal.js';
import { FEE_COMPONENTS, TOKEN_COMPONENTS, type PriceComponent } from './table.js';

const LABELS: Record<PriceComponent, string> = {
  input: 'input (fresh)',
  output: 'output',
  cacheRead: 'cache read',
  cacheWrite: 'cache write 5m',
  cacheWrite1h: 'cache write 1h',
  request: 'per request',
  webSearch: 'per web search',
};

function priceText(p: PicoPrice | null, fallback: string): string {
  if (p === null) return `(none: ${fallback})`;
  const tiers = p.tiers.map((t) => `; above ${t.start} input tokens: ${picoToMtokText(t.price)}`);
  return `${picoToMtokText(p.base)}${tiers.join('')}`;
}

const FALLBACKS: Record<PriceComponent, string> = {
  input: 'free',
  output: 'free',
  cacheRead: 'the input price applies',
  cacheWrite: 'the input price applies',
  cacheWrite1h: 'the 5-minute write price applies',
  request: 'no fee',
  webSearch: 'no fee',
};

function sourceText(book: PriceBook, row: PriceRow): string {
  const b = book.sources.bundled;
  const bundled = `bundled table (${b.name}, ${b.repository}@${b.commit}, ${b.path})`;
  if (row.origin === 'bundled') return bundled;
  if (row.origin === 'gap-fill') {
    const g = book.sources.gapFill.find((x) => row.id.startsWith(`gap-fill:${x.name}:`));
    return `gap fill: not in genai-prices, priced from ${g ? `${g.repository}@${g.commit} (${g.path})` : 'another source'} with no effective dates`;
  }
  const file = book.sources.overridesFile ?? 'overrides given in code';
  if (row.id.startsWith('override:') && !row.id.includes('+discount:'))
    return `overrides file ${file}`;
  if (row.id.startsWith('override:')) return `overrides file ${file} (price and discount)`;
  return `overrides file ${file} (discount) on the ${bundled}`;
}

function tierRuleText(row: PriceRow): string {
  const r = row.tierRule;
  const counted = r.cacheCountsTowardThreshold
    ? 'input tokens (cache included)'
    : 'fresh input tokens (cache not counted)';
  return r.mode === 'cliff'
    ? `cliff: once the call's ${counted} exceed a tier's start, every token pays the tier price`
    : `marginal: per token type, only the tokens past a tier's start pay its price (threshold on ${counted})`;
}

/** The text `prices show` prints for a model, a provider ('' = any) and a time. */
export function describePrice(book: PriceBook, provider: string, model: string, at: Date): string {
  const day = at.toISOString().slice(0, 10);
  const head = `model ${JSON.stringify(model)}${provider ? ` from provider ${JSON.stringify(provider)}` : ' (no provider given)'} at ${at.toISOString()}`;
  const row = book.resolve(provider, model, at);
  if (row === undefined) {
    return (
      `${head}\n  no price: no model in the bundled table${book.sources.overridesFile ? ` or in ${book.sources.overridesFile}` : ''} matches this name.\n` +
      `  Calls to it are stored unpriced (cost unknown, never $0); add it as a custom model in HM_PRICES_FILE, then run harness-meter reprice.\n`
    );
  }
  const periods = book.history(provider, model);
  const lines = [
    head,
    `  resolves to:    provider ${row.provider}, model ${row.model}`,
    `  price row:      ${row.id}`,
    `  effective from: ${row.effectiveFrom ?? 'always (first period)'}${row.effectiveFrom !== null && row.effectiveFrom > day ? ' (in the future)' : ''}`,
    `  source:         ${sourceText(book, row)}`,
    `  tier rule:      ${tierRuleText(row)}`,
    `  prices in USD per million tokens:`,
    ...TOKEN_COMPONENTS.map(
      (c) => `    ${LABELS[c].padEnd(15)} ${priceText(row.prices[c], FALLBACKS[c])}`,
    ),
    `  fees in USD per thousand:`,
    ...FEE_COMPONENTS.map(
      (c) => `    ${LABELS[c].padEnd(15)} ${priceText(row.prices[c], FALLBACKS[c])}`,
    ),
  ];
  if (periods.length > 1) {
    lines.push(`  all periods of this model:`);
    for (const p of periods)
      lines.push(
        `    ${(p.effectiveFrom ?? 'always').padEnd(10)} ${p.id}${p === row ? '   <- in force' : ''}`,
      );
  }
  return `${lines.join('\n')}\n`;
}
