import { describe, expect, it } from 'vitest';
import { parseTsvWithNames } from '../../queries/src/tsv.js';

describe('parseTsvWithNames (the reader of large reports)', () => {
  it('keys cells by the header, keeps values as strings and reads \\N as NULL', () => {
    expect(
      parseTsvWithNames('repo\tpr\tmerged_at\nacme/a\t12\t\\N\nacme/b\t0\t2026-11-01 00:00:00\n'),
    ).toEqual([
      { repo: 'acme/a', pr: '12', merged_at: null },
      { repo: 'acme/b', pr: '0', merged_at: '2026-11-01 00:00:00' },
    ]);
  });

  it('unescapes what ClickHouse escapes, and tells the string \\N from NULL', () => {
    const text = 'a\tb\n' + ['tab\\there\\nnew \\\\ back', '\\\\N'].join('\t') + '\n';
    expect(parseTsvWithNames(text)).toEqual([{ a: 'tab\there\nnew \\ back', b: '\\N' }]);
  });

  it('reads a result with no rows as none', () => {
    expect(parseTsvWithNames('repo\tpr\n')).toEqual([]);
    expect(parseTsvWithNames('')).toEqual([]);
  });

  it('reads empty cells, and a last row without its newline', () => {
    expect(parseTsvWithNames('a\tb\tc\n\t\tz\nx\t\t')).toEqual([
      { a: '', b: '', c: 'z' },
      { a: 'x', b: '', c: '' },
    ]);
  });
});
