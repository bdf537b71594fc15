/**
 * The SDK's faster text builders (issue 17) against the definitions they replaced, kept here as
 * references: canonicalJson writes JSON straight to text with the output of "copy into sorted
 * objects, then JSON.stringify"; tokenizeShell copies plain runs as slices with the tokens of the
 * character-by-character lexer; resolvePath skips normalize and join for paths already normal.
 * Seeded random inputs over the characters and values that matter.
 */
import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  resolvePath,
  tokenizeShell,
  type ShellToken,
} from '@harness-meter/instrumentation';

/** The definition: sorted copies (a WeakSet refuses any object seen twice), then JSON.stringify. */
function canonicalByCopy(value: unknown): string {
  const seen = new WeakSet<object>();
  const walk = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return typeof v === 'bigint' ? v.toString() : v;
    if (seen.has(v)) throw new TypeError('circular structure');
    seen.add(v);
    if (Array.isArray(v)) return v.map(walk);
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = walk((v as Record<string, unknown>)[k]);
    return out;
  };
  return JSON.stringify(walk(value)) ?? 'null';
}

/** The lexer as it was: one character at a time, operators searched at every position. */
function tokenizeByChar(command: string): ShellToken[] {
  const ops = ['&&', '||', ';;', '|&', '>>', '>&', '<(', ';', '&', '|', '>', '<', '(', ')'];
  const out: ShellToken[] = [];
  let word = '';
  let inWord = false;
  let globbed = false;
  const flush = (): void => {
    if (inWord) out.push(globbed ? { op: 'glob', pattern: word } : word);
    word = '';
    inWord = false;
    globbed = false;
  };
  for (let i = 0; i < command.length; i++) {
    const ch = command[i] ?? '';
    if (ch === '\\') {
      const next = command[i + 1];
      if (next === '\n') i++;
      else if (next !== undefined) {
        word += next;
        inWord = true;
        i++;
      }
      continue;
    }
    if (ch === "'") {
      const end = command.indexOf("'", i + 1);
      const stop = end < 0 ? command.length : end;
      word += command.slice(i + 1, stop);
      inWord = true;
      i = stop;
      continue;
    }
    if (ch === '"') {
      inWord = true;
      let j = i + 1;
      for (; j < command.length && command[j] !== '"'; j++) {
        const c = command[j] ?? '';
        if (c === '\\' && /["\\$`]/.test(command[j + 1] ?? '')) {
          word += command[j + 1] ?? '';
          j++;
        } else word += c;
      }
      i = j;
      continue;
    }
    if (ch === '#' && !inWord) {
      const end = command.indexOf('\n', i);
      const stop = end < 0 ? command.length : end;
      out.push({ comment: command.slice(i + 1, stop) });
      i = stop - 1;
      continue;
    }
    if (ch === ' ' || ch === '\t') {
      flush();
      continue;
    }
    if (ch === '\n') {
      flush();
      out.push({ op: ';' });
      continue;
    }
    const op = ops.find((o) => command.startsWith(o, i));
    if (op) {
      flush();
      out.push({ op });
      i += op.length - 1;
      continue;
    }
    if (ch === '*' || ch === '?') globbed = true;
    word += ch;
    inWord = true;
  }
  flush();
  return out;
}

/** A seeded generator (the same cases on every run). */
function random(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

const outcome = (f: () => string): string => {
  try {
    return f();
  } catch (e) {
    return `throws ${(e as Error).constructor.name}`;
  }
};

describe('canonicalJson', () => {
  it('gives the sorted-copy text for the values JSON treats specially', () => {
    const cases: unknown[] = [
      { b: 1, a: [1, undefined, () => 1, Symbol('s')], c: undefined },
      { 10: 'x', 2: 'y', b: 'z', '01': 0, '4294967295': 1, '4294967294': 2, '': 3 },
      JSON.parse('{"__proto__": {"x": 1}, "a": 2}'),
      { n: [NaN, -0, Infinity, -1.5e-7, 1e21], big: 10n, t: true, f: false, z: null },
      { s: 'quote " back \\ nl \n tab \t nul \u0000 lone \ud800 pair \ud83d\ude00 é' },
      { d: new Date(0), m: new Map([[1, 2]]), boxed: Object(5) as unknown },
      [1, , 3], // eslint-disable-line no-sparse-arrays
      { toJSON: () => 'custom', a: 1 },
      { nested: { toJSON: () => 7 }, plain: { toJSON: 'not a function' } },
      Array.from({ length: 40 }, (_, i) => ({ i, tags: [`t${i}`] })),
      undefined,
      () => 1,
      'text',
      12n,
    ];
    for (const v of cases) expect(canonicalJson(v)).toBe(canonicalByCopy(v));
  });

  it('refuses an object seen twice, a cycle or a shared field, as the copy did', () => {
    const shared = { x: 1 };
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(() => canonicalJson({ a: shared, b: shared })).toThrow(TypeError);
    expect(() => canonicalJson(cyclic)).toThrow(TypeError);
    expect(() => canonicalJson([shared, [shared]])).toThrow(TypeError);
  });

  it('agrees with the sorted copy on random nested values', () => {
    const rnd = random(17);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    const keys = [
      'a',
      'B',
      '_',
      '0',
      '1',
      '10',
      '2',
      '01',
      '-1',
      '4294967295',
      'é',
      '',
      'toJSON',
      '__proto__',
    ];
    const leaves: unknown[] = ['s', '', 'a"b\\\n', '\ud800x', 0, -0, 1.5, NaN, true, null];
    leaves.push(undefined, 3n, () => 1);
    let pool: object[] = [];
    const gen = (depth: number): unknown => {
      const r = rnd();
      if (depth > 3 || r < 0.35) return pick(leaves);
      if (r < 0.4 && pool.length > 0) return pick(pool);
      const made: object =
        r < 0.65
          ? Array.from({ length: Math.floor(rnd() * 4) }, () => gen(depth + 1))
          : Object.fromEntries(
              Array.from({ length: Math.floor(rnd() * 5) }, () => [pick(keys), gen(depth + 1)]),
            );
      pool.push(made);
      return made;
    };
    let compared = 0;
    for (let n = 0; n < 20_000; n++) {
      if (n % 20 === 0) pool = [];
      const v = gen(0);
      const want = outcome(() => canonicalByCopy(v));
      const got = outcome(() => canonicalJson(v));
      if (got !== want) expect({ v, got }).toEqual({ v, got: want });
      compared++;
    }
    expect(compared).toBe(20_000);
  });
});

describe('tokenizeShell', () => {
  it('gives the tokens of the character-by-character lexer', () => {
    const commands = [
      'npx vitest run test/a.test.ts -t "case 1"',
      'cd pkg && go test ./... 2>&1 | tail -30 # the tests\nls',
      'echo a#b # c',
      'rg -n "a\\"b\\$c\\d" src/*.ts >> out.txt; cat <(ls) |& wc -l',
      "printf 'x\\'' \\\n next \\",
      'é ü 😀 \r\v|| ;; >& (x)',
      '"unterminated \\',
      "'unterminated",
    ];
    for (const c of commands) expect(tokenizeShell(c)).toEqual(tokenizeByChar(c));
  });

  it('agrees with it on random command lines', () => {
    const rnd = random(42);
    const alphabet = [...'ab x\t\n\\"\'#&|;><()*?$`é-/.=\r2', '😀'];
    for (let n = 0; n < 20_000; n++) {
      let c = '';
      for (let i = Math.floor(rnd() * 30); i > 0; i--)
        c += alphabet[Math.floor(rnd() * alphabet.length)] ?? '';
      const got = tokenizeShell(c);
      const want = tokenizeByChar(c);
      if (JSON.stringify(got) !== JSON.stringify(want)) expect({ c, got }).toEqual({ c, want });
    }
  });
});

describe('resolvePath', () => {
  /** The definition: normalized, joined to the working directory when relative, no trailing slash. */
  const byNormalize = (p: string, cwd: string): string => {
    const n = posix.normalize(p.replace(/\\/g, '/'));
    const abs = cwd && !n.startsWith('/') && !n.startsWith('~') ? posix.join(cwd, n) : n;
    return abs.length > 1 && abs.endsWith('/') ? abs.slice(0, -1) : abs;
  };

  it('gives the normalized path, already normal or not', () => {
    const rnd = random(5);
    const parts = ['a', 'b', '/', '.', '..', '\\', '~', ' ', 'x.ts', '', '...', '.a'];
    const gen = (): string => {
      let s = '';
      for (let i = Math.floor(rnd() * 8); i > 0; i--)
        s += parts[Math.floor(rnd() * parts.length)] ?? '';
      return s;
    };
    for (let n = 0; n < 20_000; n++) {
      const cwd = rnd() < 0.2 ? '' : gen();
      const p = gen();
      const want = byNormalize(p, cwd);
      if (resolvePath(p, cwd) !== want) expect({ p, cwd, got: resolvePath(p, cwd) }).toBe(want);
    }
    expect(resolvePath('src/a.ts', '/repo')).toBe('/repo/src/a.ts');
    expect(resolvePath('./src//a.ts/', '/repo/')).toBe('/repo/src/a.ts');
  });
});
