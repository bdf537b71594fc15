/**
 * Reads ClickHouse's TabSeparatedWithNames output into rows. Reports with many rows read this instead
 * of JSONEachRow: at 15,000 cost-per-pr rows, JSONEachRow cost about 116 ms of CPU to format and parse
 * where TabSeparated took 16 ms (bench/reports.js). Written here because the format is a few lines to
 * read and the ClickHouse client parses only its JSON formats into rows. Values stay strings (as
 * JSONEachRow gives 64-bit integers); `\N` is NULL.
 */
import type { RawRow } from './report-sql.js';

const ESCAPES: Readonly<Record<string, string>> = {
  b: '\b',
  f: '\f',
  r: '\r',
  n: '\n',
  t: '\t',
  '0': '\0',
  "'": "'",
  '\\': '\\',
};

function field(raw: string): string | null {
  if (raw === '\\N') return null;
  if (!raw.includes('\\')) return raw;
  return raw.replace(/\\(.)/g, (_m, c: string) => ESCAPES[c] ?? c);
}

/** Rows of a TabSeparatedWithNames text, keyed by the header's column names. */
export function parseTsvWithNames(text: string): RawRow[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const names = (lines[0] ?? '').split('\t').map((n) => field(n) ?? '');
  const out: RawRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const cells = (lines[i] ?? '').split('\t');
    const row: RawRow = {};
    for (let c = 0; c < names.length; c++) row[names[c] ?? ''] = field(cells[c] ?? '');
    out.push(row);
  }
  return out;
}
