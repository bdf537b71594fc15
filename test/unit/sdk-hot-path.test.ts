/**
 * What the SDK's per-call shortcuts (issue 17) must keep: the session history is the last 1,000
 * calls in order, the session processor still stamps every other span, a result's line count
 * decides a default-limit read's range, and sha256Hex is SHA-256 of the UTF-8 text.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '@harness-meter/instrumentation';
import { byName, hm, provider, spans, useTestTracer } from '../helpers/sdk-tracer.js';

useTestTracer();

describe('session history', () => {
  it('keeps the last 1,000 calls, oldest first; the checker forgets the older ones', async () => {
    await hm.withSession({ sessionId: 'h-1' }, async (session) => {
      for (let i = 0; i < 1005; i++)
        await hm.toolCall({ name: 'Read', callId: `c${i}`, args: { file_path: `f${i}.ts` } }, () =>
          Promise.resolve('x'),
        );
      const ids = session.history.map((c) => c.spanId);
      expect(ids).toHaveLength(1000);
      expect(ids[0]).toBe('c5');
      expect(ids.at(-1)).toBe('c1004');
      expect(ids).toEqual(Array.from({ length: 1000 }, (_, i) => `c${i + 5}`));
      // the calls that fell out are not repeated any more; the kept ones are
      expect(hm.checkRedundancy({ name: 'Read', args: { file_path: 'f4.ts' } })).toBeUndefined();
      expect(hm.checkRedundancy({ name: 'Read', args: { file_path: 'f5.ts' } })).toEqual({
        kind: 're_read',
        repeatsCallId: 'c5',
      });
      // a call recorded after a read shows in the next read
      hm.toolCall({ name: 'Grep', callId: 'g', args: { pattern: 'x' } }, () => 'y');
      expect(session.history.at(-1)?.spanId).toBe('g');
      expect(session.history[0]?.spanId).toBe('c6');
    });
  });
});

describe('session attributes on spans', () => {
  it('are on the wrappers’ spans after an update, and on other tracers’ spans as before', () => {
    hm.withSession({ sessionId: 'h-2', developer: 'ana', branch: 'a' }, (session) => {
      session.update({ branch: 'b', pr: 7 });
      hm.toolCall({ name: 'Read', args: { file_path: 'a.ts' } }, () => 'x');
      // another instrumentation's span that already names the conversation still gets the rest
      provider
        .getTracer('other')
        .startSpan('GET /x', { attributes: { 'gen_ai.conversation.id': 'h-2' } })
        .end();
    });
    const session = {
      'gen_ai.conversation.id': 'h-2',
      'user.id': 'ana',
      'vcs.ref.head.name': 'b',
      'vcs.change.id': '7',
    };
    expect(byName('execute_tool Read').attributes).toMatchObject(session);
    expect(byName('GET /x').attributes).toEqual(session);
    expect(spans()).toHaveLength(3);
  });
});

describe('a read that stops at the default limit (2,000 lines)', () => {
  const readWith = (result: string): Record<string, unknown> => {
    hm.withSession({ sessionId: `h-${result.length}` }, () =>
      hm.toolCall({ name: 'Read', args: { file_path: 'big.ts' } }, () => result),
    );
    return { ...byName('execute_tool Read').attributes };
  };
  const numbered = (n: number): string =>
    Array.from({ length: n }, (_, i) => `line ${i + 1}\n`).join('');

  it('keeps its range when 2,000 lines came back (a trailing newline ends the last line)', () => {
    const a = readWith(numbered(2000));
    expect(a['harness_meter.tool.range.start']).toBe(1);
    expect(a['harness_meter.tool.range.end']).toBe(2000);
  });

  it('covers the whole file when fewer came back', () => {
    const a = readWith(numbered(1999));
    expect(a['harness_meter.tool.range.start']).toBe(1);
    expect(a['harness_meter.tool.range.end']).toBeUndefined();
  });

  it('counts a last line without a newline', () => {
    const a = readWith(`${numbered(1999)}line 2000`);
    expect(a['harness_meter.tool.range.end']).toBe(2000);
  });
});

describe('sha256Hex', () => {
  it('is SHA-256 of the UTF-8 bytes, as createHash gives it', () => {
    for (const text of ['', 'a', 'src/ä.ts', '日本語 🚀', 'x'.repeat(100_000), '\u0000\ud83d'])
      expect(sha256Hex(text)).toBe(createHash('sha256').update(text).digest('hex'));
  });
});
