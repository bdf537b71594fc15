import { describe, expect, it } from 'vitest';
import { trace } from '@opentelemetry/api';
import { createHarnessTracer } from '@harness-meter/instrumentation';
import { byName, hm, provider, spans, useTestTracer } from '../helpers/sdk-tracer.js';

useTestTracer();

describe('redundancy check before a call runs', () => {
  it('resolves paths against the session cwd; a cd in Bash moves the next Bash call', async () => {
    await hm.withSession({ agentName: 'c', cwd: '/repo' }, async () => {
      await hm.toolCall({ name: 'Read', callId: 'r1', args: { file_path: '/repo/pkg/a.ts' } }, () =>
        Promise.resolve('x'),
      );
      expect(hm.checkRedundancy({ name: 'Read', args: { file_path: 'pkg/a.ts' } })).toEqual({
        kind: 're_read',
        repeatsCallId: 'r1',
      });
      expect(hm.checkRedundancy({ name: 'Bash', args: { command: 'cat a.ts' } })).toBeUndefined();
      await hm.toolCall({ name: 'Bash', callId: 'b1', args: { command: 'cd pkg' } }, () =>
        Promise.resolve(''),
      );
      expect(hm.checkRedundancy({ name: 'Bash', args: { command: 'cat a.ts' } })).toEqual({
        kind: 're_read',
        repeatsCallId: 'r1',
      });
      // Codex's shell runs each command in its workdir: no persistent cd
      expect(
        hm.checkRedundancy({ name: 'shell', args: { command: ['cat', 'a.ts'], workdir: '/repo' } }),
      ).toBeUndefined();
    });
  });

  it('checks a call against the session, with the same rules as the pipeline', async () => {
    await hm.withSession({ sessionId: 's-3' }, async () => {
      const read = { name: 'Read', args: { file_path: 'src/a.ts' } };
      expect(hm.checkRedundancy(read)).toBeUndefined();
      await hm.toolCall({ ...read, callId: 'toolu_1' }, async () => 'contents');
      expect(hm.checkRedundancy(read)).toEqual({ kind: 're_read', repeatsCallId: 'toolu_1' });
      expect(
        hm.checkRedundancy({ name: 'Read', args: { file_path: 'src/a.ts', offset: 5, limit: 10 } }),
      ).toEqual({ kind: 're_read', repeatsCallId: 'toolu_1' });
      hm.toolCall(
        { name: 'Edit', args: { file_path: 'src/a.ts', old_string: 'a', new_string: 'b' } },
        () => 'ok',
      );
      expect(hm.checkRedundancy(read)).toBeUndefined();
      await expect(
        hm.toolCall({ name: 'Bash', callId: 'toolu_2', args: { command: 'npm test' } }, async () =>
          Promise.reject(new Error('exit 1')),
        ),
      ).rejects.toThrow('exit 1');
      expect(hm.checkRedundancy({ name: 'Bash', args: { command: 'npm  test' } })).toEqual({
        kind: 'retry_loop',
        repeatsCallId: 'toolu_2',
      });
      hm.markCompaction();
      hm.toolCall({ name: 'Read', args: { file_path: 'src/b.ts' } }, () => 'b');
      expect(hm.checkRedundancy({ name: 'Read', args: { file_path: 'src/b.ts' } })?.kind).toBe(
        're_read',
      );
    });
    expect(hm.checkRedundancy({ name: 'Read', args: { file_path: 'src/b.ts' } })).toBeUndefined(); // outside a session
  });

  it('records read ranges and marks compactions', () => {
    hm.withSession({ sessionId: 's-2' }, () => {
      hm.toolCall({ name: 'Read', args: { file_path: 'a.ts', offset: 10, limit: 20 } }, () => 'x');
      hm.toolCall(
        { name: 'read_file', args: { path: 'b.ts', start_line: 5, end_line: 9 } },
        () => 'y',
      );
      hm.markCompaction();
    });
    expect(byName('execute_tool Read').attributes).toMatchObject({
      'harness_meter.tool.range.start': 10,
      'harness_meter.tool.range.end': 29,
    });
    expect(byName('execute_tool read_file').attributes).toMatchObject({
      'harness_meter.tool.range.start': 5,
      'harness_meter.tool.range.end': 9,
    });
    expect(byName('context_compaction').attributes).toMatchObject({
      'harness_meter.context.compaction': 'true',
      'gen_ai.conversation.id': 's-2',
    });
  });
});

describe('createHarnessTracer options', () => {
  it('uses the given tracer, else the provider, else the global provider', () => {
    const viaTracer = createHarnessTracer({ tracer: provider.getTracer('mine') });
    viaTracer.toolCall({ name: 'Read' }, () => '');
    hm.toolCall({ name: 'Read' }, () => '');
    expect(spans().map((s) => s.instrumentationScope.name)).toEqual([
      'mine',
      '@harness-meter/instrumentation',
    ]);
    // No global provider registered in this file: the global tracer makes non-recording spans.
    expect(trace.getTracerProvider()).toBeDefined();
    expect(createHarnessTracer().toolCall({ name: 'Read' }, () => 'still runs')).toBe('still runs');
    expect(spans()).toHaveLength(2);
  });
});
