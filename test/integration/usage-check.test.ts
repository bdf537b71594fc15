import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageCheck } from '@harness-meter/queries';
import type { RunningServer } from '../../pipeline/src/embedded.js';
import type { SimpleSpan } from '../helpers/otlp-json.js';
import { queryRows, sendSpans, startTestServer } from '../helpers/server.js';

const DB = 'hm_usage_check';
let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer('usage-check', DB);
});
afterAll(async () => {
  await server.stop();
});

const T = Date.now() - 600_000;
const call = (i: number, usage: Record<string, number>): SimpleSpan => ({
  traceId: 'a'.repeat(31) + String(i),
  spanId: 'b'.repeat(15) + String(i),
  name: 'chat claude-sonnet-4-5',
  startMs: T + i,
  attributes: {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'anthropic',
    'gen_ai.request.model': 'claude-sonnet-4-5',
    'harness_meter.source': 'my-gateway',
    'gen_ai.usage.output_tokens': 100,
    ...usage,
  },
});

describe('usage check: input must include cache reads and writes, the TTL split must sum to the writes', () => {
  it('flags calls whose parts do not add up, keeps pricing them, and lists them in report usage-check', async () => {
    const spans = [
      // 800 read + 500 written > 1,000 input: Anthropic's input (cache excluded) sent as the conventions' input.
      call(1, {
        'gen_ai.usage.input_tokens': 1000,
        'gen_ai.usage.cache_read.input_tokens': 800,
        'gen_ai.usage.cache_creation.input_tokens': 500,
      }),
      // 200 (5m) + 200 (1h) ≠ 500 written.
      call(2, {
        'gen_ai.usage.input_tokens': 2000,
        'gen_ai.usage.cache_creation.input_tokens': 500,
        'harness_meter.usage.cache_creation_5m.input_tokens': 200,
        'harness_meter.usage.cache_creation_1h.input_tokens': 200,
      }),
      // consistent: 1,000 of 2,000 input read from cache.
      call(3, { 'gen_ai.usage.input_tokens': 2000, 'gen_ai.usage.cache_read.input_tokens': 1000 }),
    ];
    await sendSpans(server, spans);
    const stored = await queryRows<{ u: string; c: string }>(
      server,
      `SELECT usage_check AS u, toString(cost_nanos) AS c FROM ${DB}.spans FINAL ORDER BY SpanId`,
    );
    // Call 1 is still priced: fresh input 0, 800 × 300,000 + 500 × 3,750,000 + 100 × 15,000,000 pico
    // = 240,000 + 1,875,000 + 1,500,000 = 3,615,000 nano-USD.
    expect(stored.map((r) => [r.u, r.c])).toEqual([
      ['cache_exceeds_input', '3615000'],
      // The 100 writes the split leaves out count as 5-minute writes (the cost rule): 1,500 fresh × 3,000,000
      // + 300 × 3,750,000 + 200 × 6,000,000 + 100 × 15,000,000 pico = 4,500,000 + 1,125,000 + 1,200,000 + 1,500,000
      ['cache_split_mismatch', '8325000'],
      // 1,000 × 3,000,000 + 1,000 × 300,000 + 100 × 15,000,000 = 3,000,000 + 300,000 + 1,500,000
      ['', '4800000'],
    ]);
    const rows = await usageCheck(server.client, {
      db: DB,
      since: new Date(T - 60_000),
      until: new Date(T + 60_000),
    });
    expect(
      rows.map((r) => [
        r.check,
        r.source,
        r.calls,
        r.input_tokens,
        r.cache_read_tokens,
        r.cache_write_tokens,
      ]),
    ).toEqual([
      ['cache_exceeds_input', 'my-gateway', 1, 1000, 800, 500],
      ['cache_split_mismatch', 'my-gateway', 1, 2000, 0, 500],
    ]);
    expect(rows[0]?.example_trace).toBe('a'.repeat(31) + '1');
  });
});
