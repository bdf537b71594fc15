/**
 * The SDK remembers what a tool request puts on its span (issue 17: describing, normalizing and
 * hashing were most of a tool call's cost). A remembered request must give exactly the span a
 * fresh tracer gives, and what depends on the session (where its shell is, what it last wrote to
 * a file) must still be worked out per call.
 */
import { describe, expect, it } from 'vitest';
import type { Attributes } from '@opentelemetry/api';
import {
  createHarnessTracer,
  sha256Hex,
  type HarnessTracer,
  type ToolRequest,
} from '@harness-meter/instrumentation';
import {
  nameHash,
  plainKey,
  RecentCache,
  requestPath,
} from '../../instrumentation/src/tool-facts.js';
import { hm, provider, spans, useTestTracer } from '../helpers/sdk-tracer.js';

useTestTracer();

/** Runs the requests in one session of `tracer` and returns each tool span's attributes. */
async function attributesOf(tracer: HarnessTracer, requests: ToolRequest[]): Promise<Attributes[]> {
  const before = spans().length;
  await tracer.withSession({ sessionId: 'facts', cwd: '/repo' }, async () => {
    for (const r of requests) await tracer.toolCall(r, () => Promise.resolve('ok'));
  });
  return spans()
    .slice(before)
    .filter((s) => s.name.startsWith('execute_tool'))
    .map((s) => ({ ...s.attributes }));
}

const ATTR_TARGET = 'harness_meter.tool.target_hash';
const ATTR_ARGS = 'harness_meter.tool.args_hash';
const ATTR_BEFORE = 'harness_meter.tool.edit.before_hash';
const ATTR_AFTER = 'harness_meter.tool.edit.after_hash';

describe('plainKey', () => {
  it('gives equal plain data the same key and different data different keys', () => {
    expect(plainKey({ a: 1, b: ['x', null, true] })).toBe(plainKey({ a: 1, b: ['x', null, true] }));
    const keys = [
      { a: 1 },
      { a: '1' },
      { a: true },
      { a: 'true' },
      { a: null },
      { a: 'null' },
      { a: [1] },
      { a: { b: 1 } },
      { 'a":1,"b': 1 },
      { a: 1, b: 1 },
      'a',
      ['a'],
    ].map(plainKey);
    expect(keys.every((k) => k !== undefined)).toBe(true);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('refuses what JSON would merge with other values, and long texts', () => {
    for (const v of [
      { a: Number.NaN },
      { a: Number.POSITIVE_INFINITY },
      { a: -0 },
      { a: undefined },
      { a: () => 1 },
      { a: new Date(0) },
      { a: 1n },
      [1, , 3], // eslint-disable-line no-sparse-arrays
      undefined,
      { text: 'x'.repeat(2000) },
    ])
      expect(plainKey(v)).toBeUndefined();
  });
});

describe('requestPath', () => {
  const requests: [ToolRequest, string, string | undefined][] = [
    [{ name: 'ab', args: {} }, 'c', undefined],
    [{ name: 'a', args: {} }, 'bc', undefined],
    [{ name: 'a', args: {} }, 'bc', ''],
    [{ name: 'a', args: {} }, 'bc', '/x'],
    [{ name: 'a', args: {}, target: '/x' }, 'bc', undefined],
    [{ name: 'a' }, 'bc', undefined],
    [{ name: 'a', args: { n: 1 } }, '', undefined],
    [{ name: 'a', args: { n: '1' } }, '', undefined],
    [{ name: 'a', args: { n: true } }, '', undefined],
    [{ name: 'a', args: { n: null } }, '', undefined],
    [{ name: 'a', args: { n: [1] } }, '', undefined],
    [{ name: 'a', args: { n: '[1]' } }, '', undefined],
    [{ name: 'a', args: { n: 1, m: 2 } }, '', undefined],
    [{ name: 'a', args: { m: 2, n: 1 } }, '', undefined],
    [{ name: 'a', args: 'n' }, '', undefined],
    [{ name: 'a', args: ['n'] }, '', undefined],
    [{ name: 'a', args: null }, '', undefined],
  ];

  it('finds a remembered request again, from a fresh copy, and no other request', () => {
    const paths = requests.map(([r, cwd, shell]) => requestPath(r, cwd, shell));
    paths.forEach((p, i) => {
      const cache = new RecentCache<number>(64);
      if (!p) throw new Error(`request ${i} not remembered`);
      cache.set(p, i);
      const [r, cwd, shell] = requests[i] ?? [];
      const copy = structuredClone(r) as ToolRequest;
      expect(cache.get(requestPath(copy, cwd, shell) ?? [])).toBe(i);
      paths.forEach((q, j) => {
        if (j !== i) expect(cache.get(q ?? [])).toBeUndefined();
      });
    });
  });

  it('does not remember arguments that are not plain JSON, or too long', () => {
    for (const args of [
      { f: () => 1 },
      { n: Number.NaN },
      { n: undefined },
      { d: new Date(0) },
      { nested: { f: () => 1 } },
      new Map(),
      { text: 'x'.repeat(2000) },
    ])
      expect(requestPath({ name: 'a', args }, '', undefined)).toBeUndefined();
  });
});

describe('RecentCache', () => {
  it('tells apart paths that share any prefix, in one cache', () => {
    const c = new RecentCache<string>(1000);
    const paths: unknown[][] = [];
    for (const a of ['Read', 'Grep'])
      for (const b of ['x', 'y', 1, 2, null, true])
        for (const d of ['p', 'q', 0]) paths.push([a, b, d, 'end'], [a, b, 'end'], [a, 'end']);
    const distinct = [...new Map(paths.map((p) => [JSON.stringify(p), p])).values()];
    distinct.forEach((p) => c.set(p, JSON.stringify(p)));
    for (const p of distinct) expect(c.get([...p])).toBe(JSON.stringify(p));
    expect(c.size).toBe(distinct.length);
    // a path never stored, next to stored ones
    expect(c.get(['Read', 'x', 'r', 'end'])).toBeUndefined();
    expect(c.get(['Read', 'x', 'p'])).toBeUndefined();
    expect(c.get(['Read', 'x', 'p', 'end', 'more'])).toBeUndefined();
    // storing again replaces, and does not count twice
    c.set(['Grep', 2, 'end'], 'again');
    expect(c.get(['Grep', 2, 'end'])).toBe('again');
    expect(c.size).toBe(distinct.length);
  });

  it('keeps what is used, forgets what is not, and never holds more than its bound', () => {
    const c = new RecentCache<number>(4);
    c.set(['hot'], 0);
    for (let i = 1; i <= 20; i++) {
      c.set(['k', i], i);
      expect(c.get(['hot'])).toBe(0); // used after every insertion: kept
      expect(c.size).toBeLessThanOrEqual(4);
    }
    expect(c.get(['k', 20])).toBe(20);
    expect(c.get(['k', 1])).toBeUndefined(); // unused for 19 insertions: forgotten
  });
});

describe('remembered tool requests', () => {
  const requests: ToolRequest[] = [
    { name: 'Read', callId: 'r1', args: { file_path: 'src/a.ts', offset: 3, limit: 10 } },
    { name: 'Grep', args: { pattern: 'todo', path: 'src' } },
    { name: 'Bash', args: { command: 'npx vitest run', description: 'tests' } },
    { name: 'Bash', args: { command: 'rm -f dist/a.js build/b.js' } },
    { name: 'Edit', args: { file_path: 'src/a.ts', old_string: 'a', new_string: 'b' } },
    { name: 'mcp__github__get_issue', args: { number: 7 } },
    { name: 'custom_tool', type: 'function', args: { path: './x//y.ts', start_line: 2 } },
    { name: 'Read', toolClass: 'other', target: 'README.md', args: { file_path: 'README.md' } },
  ];

  it('give the same spans as a fresh tracer, call after call', async () => {
    const fresh = await attributesOf(createHarnessTracer({ tracerProvider: provider }), requests);
    // each request twice in one tracer: the second time from what it remembered
    const twice = await attributesOf(hm, [...requests, ...requests]);
    expect(twice.slice(0, requests.length)).toEqual(fresh);
    expect(twice.slice(requests.length)).toEqual(fresh);
  });

  it('are not confused with arguments that only JSON would make equal', async () => {
    const withFn = { name: 'Grep', args: { pattern: 'x', glob: () => '*.ts' } };
    const fresh = await attributesOf(createHarnessTracer({ tracerProvider: provider }), [withFn]);
    const [plain, odd] = await attributesOf(hm, [{ name: 'Grep', args: { pattern: 'x' } }, withFn]);
    expect(odd).toEqual(fresh[0]);
    expect(odd?.[ATTR_ARGS]).not.toBe(plain?.[ATTR_ARGS]);
  });

  it('follow the persistent shell: the same `ls` after a `cd` lists another directory', async () => {
    const ls = { name: 'Bash', args: { command: 'ls' } };
    const [first, , second] = await attributesOf(hm, [
      ls,
      { name: 'Bash', args: { command: 'cd sub' } },
      ls,
    ]);
    expect(first?.[ATTR_TARGET]).toBe(sha256Hex('names:/repo'));
    expect(second?.[ATTR_TARGET]).toBe(sha256Hex('names:/repo/sub'));
  });

  it("still read a whole-file write's before-state from the session (v1 → v2 → v1)", async () => {
    const write = (content: string): ToolRequest => ({
      name: 'Write',
      args: { file_path: 'src/a.ts', content },
    });
    const [v1, v2, again] = await attributesOf(hm, [write('one'), write('two'), write('one')]);
    expect(v1?.[ATTR_BEFORE]).toBeUndefined();
    expect(v2?.[ATTR_BEFORE]).toBe(sha256Hex('one'));
    // the repeated request is remembered, but its before-state is what the session wrote last
    expect(again?.[ATTR_BEFORE]).toBe(sha256Hex('two'));
    expect(again?.[ATTR_AFTER]).toBe(v1?.[ATTR_AFTER]);
  });
});

describe('nameHash', () => {
  it('is SHA-256 of the text, remembered or not, short or long', () => {
    for (const text of ['content:/repo/src', 'names:/repo', '', 'x'.repeat(300)]) {
      expect(nameHash(text)).toBe(sha256Hex(text));
      expect(nameHash(text)).toBe(sha256Hex(text));
    }
    for (let i = 0; i < 3000; i++)
      expect(nameHash(`content:/r/${i}`)).toBe(sha256Hex(`content:/r/${i}`));
    expect(nameHash('content:/r/0')).toBe(sha256Hex('content:/r/0')); // forgotten, computed again
  });
});
