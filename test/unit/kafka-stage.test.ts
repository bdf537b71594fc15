import { describe, expect, it } from 'vitest';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import { loadConfig } from '../../pipeline/src/config.js';
import { createYielder, makeStage, YIELD_EVERY_MS } from '../../pipeline/src/kafka/consumers.js';
import {
  decodeSpanRecord,
  decodeSpanRecords,
  encodeSpanRecord,
  encodeSpanRecords,
  PoisonMessageError,
} from '../../pipeline/src/kafka/codec.js';
import type { SpanRecord } from '../../pipeline/src/model.js';
import { pricedSpan } from '../helpers/spans.js';
import { silentLogger } from '../../pipeline/src/logger.js';
import { createMetrics } from '../../pipeline/src/metrics.js';

/** A consumer that records its calls and lets the test fire kafkajs's CRASH event. */
function fakeKafka() {
  const calls: string[] = [];
  let crash: ((e: { payload: { error: Error; restart: boolean } }) => void) | undefined;
  const consumer = {
    events: { CRASH: 'consumer.crash' },
    on: (_name: string, listener: typeof crash) => void (crash = listener),
    connect: () => (calls.push('connect'), Promise.resolve()),
    subscribe: () => (calls.push('subscribe'), Promise.resolve()),
    run: () => (calls.push('run'), Promise.resolve()),
    disconnect: () => (calls.push('disconnect'), Promise.resolve()),
  };
  const kafka = { consumer: () => consumer } as unknown as Kafka;
  return {
    kafka,
    calls,
    crash: (restart: boolean) =>
      crash?.({
        payload: { error: new Error('The coordinator is not aware of this member'), restart },
      }),
  };
}

const deps = (kafka: Kafka) => ({
  kafka,
  producer: {} as Producer,
  cfg: loadConfig({ HM_KAFKA_BROKERS: '127.0.0.1:9092' }).kafka,
  log: silentLogger,
  metrics: createMetrics(),
  backoff: { initialMs: 5, maxMs: 5 },
});

const settle = (ms = 50) => new Promise((r) => setTimeout(r, ms));

describe('consumer stage', () => {
  it('rejoins after a crash kafkajs does not restart itself (non-retriable), and not after stop', async () => {
    const f = fakeKafka();
    const stage = makeStage(deps(f.kafka), 'g', ['t'], (_c: Consumer) => Promise.resolve());
    await stage.start();
    expect(f.calls).toEqual(['connect', 'subscribe', 'run']);
    f.crash(false);
    await settle();
    expect(f.calls).toEqual(['connect', 'subscribe', 'run', 'connect', 'subscribe', 'run']);
    // kafkajs restarts retriable crashes on its own: no second start from the stage.
    f.crash(true);
    await settle();
    expect(f.calls.filter((c) => c === 'run')).toHaveLength(2);
    await stage.stop();
    f.crash(false);
    await settle();
    expect(f.calls.filter((c) => c === 'run')).toHaveLength(2);
  });
});

describe('session-topic codec', () => {
  const span = (id: string, cost: bigint | null) =>
    pricedSpan({ spanId: id, sessionId: 's1', reportedCostNanos: cost }) as SpanRecord;

  it('carries several spans of a session in one message, 64-bit values intact, in order', () => {
    const spans = [span('a', 123_456_789_012_345_678n), span('b', null), span('c', 1n)];
    const back = decodeSpanRecords(encodeSpanRecords(spans));
    expect(back.map((r) => [r.spanId, r.reportedCostNanos, r.startTimeUnixNano])).toEqual(
      spans.map((r) => [r.spanId, r.reportedCostNanos, r.startTimeUnixNano]),
    );
    expect(typeof back[0]?.endTimeUnixNano).toBe('bigint');
  });

  it('still reads one span per message (what earlier versions and dead letters carry)', () => {
    const one = span('solo', 5n);
    expect(decodeSpanRecords(encodeSpanRecord(one)).map((r) => r.spanId)).toEqual(['solo']);
    expect(decodeSpanRecord(encodeSpanRecord(one)).reportedCostNanos).toBe(5n);
  });

  it('refuses a message with one bad record whole, saying why', () => {
    const bad = Buffer.from(JSON.stringify([{ traceId: 't', spanId: 'x', spanType: 'llm' }]));
    expect(() => decodeSpanRecords(bad)).toThrow(PoisonMessageError);
    expect(() => decodeSpanRecords(Buffer.from('{nope'))).toThrow(/not a JSON span record/);
  });
});

describe('yielding inside a batch', () => {
  it('lets the event loop in and heartbeats once synchronous work passed YIELD_EVERY_MS', async () => {
    let t = 0;
    let beats = 0;
    const pause = createYielder({ heartbeat: () => (beats++, Promise.resolve()) }, () => t);
    expect(pause()).toBeUndefined();
    t += YIELD_EVERY_MS - 1;
    expect(pause()).toBeUndefined();
    t += 1;
    let timerRan = false;
    setImmediate(() => (timerRan = true));
    await pause();
    expect(timerRan).toBe(true); // the loop turned: timers such as the keep-alive ran
    expect(beats).toBe(1);
    expect(pause()).toBeUndefined(); // the clock restarts at the yield
  });
});
