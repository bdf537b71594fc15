import { describe, expect, it } from 'vitest';
import { createKeyFilter, murmur3, xxh32 } from '../../pipeline/src/sink/key-filter.js';
import { addKeyPage } from '../../pipeline/src/sink/dedup.js';

const key = (i: number): string =>
  `${(i % 200).toString(16).padStart(32, '0')}:${i.toString(16).padStart(16, '0')}`;

describe('key filter (Bloom filter of stored span keys)', () => {
  it('never answers "new" for a key it was given', () => {
    const filter = createKeyFilter(2 ** 16);
    for (let i = 0; i < 20_000; i++) filter.add(key(i));
    for (let i = 0; i < 20_000; i++) expect(filter.mightHave(key(i))).toBe(true);
    expect(filter.size).toBe(20_000);
  });

  it('answers "new" for most keys it was not given, within the false-positive bound', () => {
    // 10 bits per key, 4 hashes: about 1.2 % false "maybe"; allow 3 %.
    const filter = createKeyFilter(10 * 10_000);
    for (let i = 0; i < 10_000; i++) filter.add(key(i));
    let maybe = 0;
    for (let i = 10_000; i < 110_000; i++) if (filter.mightHave(key(i))) maybe++;
    expect(maybe / 100_000).toBeLessThan(0.03);
  });

  it('starts empty', () => {
    const filter = createKeyFilter(1024);
    expect(filter.mightHave(key(1))).toBe(false);
    expect(filter.size).toBe(0);
  });

  it('gives a trace and span id pair the bits of its joined key, so saved filters stay valid', () => {
    const joined = createKeyFilter(2 ** 14);
    const pairs = createKeyFilter(2 ** 14);
    for (let i = 0; i < 3000; i++) {
      const [t, s] = key(i).split(':') as [string, string];
      joined.add(key(i));
      pairs.addRef(t, s);
      // Each answers for the other's keys: the pair and the joined key hash alike.
      expect(joined.mightHaveRef(t, s)).toBe(true);
      expect(pairs.mightHave(key(i))).toBe(true);
    }
    expect(Buffer.from(pairs.bytes()).equals(Buffer.from(joined.bytes()))).toBe(true);
    expect(pairs.size).toBe(3000);
    expect(pairs.mightHaveRef(key(5000).slice(0, 32), key(5000).slice(33))).toBe(
      joined.mightHave(key(5000)),
    );
  });
});

describe('key filter hashes (the ones ClickHouse computes: murmurHash3_32, xxHash32)', () => {
  it('hashes UTF-8 bytes: a non-ASCII pair gets the bits of its joined key', () => {
    const joined = createKeyFilter(2 ** 12);
    const pairs = createKeyFilter(2 ** 12);
    const ids: [string, string][] = [
      ['tracé', 'spän'],
      ['😀'.repeat(40), 'x'],
      ['abc', ''],
    ];
    for (const [t, s] of ids) {
      joined.add(`${t}:${s}`);
      pairs.addRef(t, s);
    }
    expect(Buffer.from(pairs.bytes()).equals(Buffer.from(joined.bytes()))).toBe(true);
  });

  it('gives the published values of murmur3 (x86, 32-bit) and XXH32 with seed 0', () => {
    const b = (s: string): [Uint8Array, number] => {
      const bytes = Buffer.from(s);
      return [bytes, bytes.length];
    };
    expect(murmur3(...b(''))).toBe(0);
    expect(murmur3(...b('hello'))).toBe(0x248bfa47);
    expect(xxh32(...b(''))).toBe(0x02cc5d05);
    expect(xxh32(...b('abc'))).toBe(0x32d153ff);
  });
});

describe('key filter seed page (TabSeparated TraceId, SpanId lines)', () => {
  it('adds every line of a page with the bits of the same keys added one by one, and returns the last', () => {
    const ids: [string, string][] = Array.from({ length: 500 }, (_, i) => [
      (i % 37).toString(16).padStart(32, '0'),
      i.toString(16).padStart(16, '0'),
    ]);
    const text = ids.map(([t, s]) => `${t}\t${s}\n`).join('');
    const seeded = createKeyFilter(2 ** 14);
    const page = addKeyPage(text, seeded);
    const direct = createKeyFilter(2 ** 14);
    for (const [t, s] of ids) direct.addRef(t, s);
    expect(page.rows).toBe(500);
    expect(page.last).toEqual(ids.at(-1));
    expect(Buffer.from(seeded.bytes()).equals(Buffer.from(direct.bytes()))).toBe(true);
    expect(seeded.size).toBe(500);
  });

  it('unescapes ids ClickHouse escaped, and reads a page without a final newline', () => {
    const seen: [string, string][] = [];
    const page = addKeyPage('a\\tb\\\\c\tx\\ny\nplain\tlast', {
      addRef: (t, s) => void seen.push([t, s]),
    });
    expect(seen).toEqual([
      ['a\tb\\c', 'x\ny'],
      ['plain', 'last'],
    ]);
    expect(page).toEqual({ rows: 2, last: ['plain', 'last'] });
  });

  it('an empty page adds nothing and has no last key', () => {
    const filter = createKeyFilter(1024);
    expect(addKeyPage('', filter)).toEqual({ rows: 0, last: undefined });
    expect(filter.size).toBe(0);
  });
});
