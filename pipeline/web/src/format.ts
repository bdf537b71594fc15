import { formatUsd } from '../../../queries/src/money.ts';

/** Dollars from integer nano-USD text, exactly: 4 decimals under $100, else 2 (the CLI's rounding). */
export function usd(nanos: string | null | undefined): string {
  if (nanos === null || nanos === undefined) return 'unpriced';
  const n = BigInt(nanos);
  const abs = n < 0n ? -n : n;
  return `$${formatUsd(n, abs < 100_000_000_000n ? 4 : 2)}`;
}

export function sumNanos(values: readonly (string | null | undefined)[]): string {
  let t = 0n;
  for (const v of values) if (v) t += BigInt(v);
  return t.toString();
}

const intFmt = new Intl.NumberFormat('en-US');
export const int = (n: number): string => intFmt.format(n);

/** 1.2M, 35.4k */
export function compact(n: number): string {
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (Math.abs(n) >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return int(n);
}

export function ms(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${String(Math.round(n))} ms`;
}

/** `YYYY-MM-DD hh:mm:ss[.fff…]` UTC from ClickHouse → a local, readable time. */
export function when(text: string): string {
  if (!text) return '';
  const d = new Date(`${text.replace(' ', 'T').slice(0, 23)}Z`);
  return Number.isNaN(d.getTime()) ? text : d.toLocaleString();
}

export function repoName(repo: string): string {
  return repo.replace(/^https?:\/\/[^/]+\//, '').replace(/\.git$/, '') || '(no repository)';
}

/** A cost with its unpriced calls: never "$0" for calls whose price is unknown. */
export function costText(nanos: string | null, unpricedCalls: number): string {
  const n = `${int(unpricedCalls)} unpriced`;
  // The reports API answers null when none of the calls was priced: never shown as $0.
  if (nanos === null) return unpricedCalls > 0 ? n : 'unpriced';
  if (unpricedCalls <= 0) return usd(nanos);
  return nanos === '0' ? n : `${usd(nanos)} + ${n}`;
}
