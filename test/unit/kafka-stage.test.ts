import { describe, expect, it } from 'vitest';
import type { Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
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

/** A consumer whose eachBatch the test drives, recording commits, pauses and the disconnect. */
function drivenKafka() {
  const calls: string[] = [];
  let eachBatch: ((p: EachBatchPayload) => Promise<void>) | undefined;
  let crash: ((e: { payload: { error: Error; restart: boolean } }) => void) | undefined;
  const consumer = {
    events: { CRASH: 'consumer.crash' },
    on: (_name: string, listener: typeof crash) => void (crash = listener),
    connect: () => Promise.resolve(),
    subscribe: () => Promise.resolve(),
    run: (o: { eachBatch: typeof eachBatch }) => ((eachBatch = o.eachBatch), Promise.resolve()),
    pause: () => void calls.push('pause'),
    commitOffsets: (o: { partition: number; offset: string }[]) => (
      calls.push(...o.map((c) => `commit ${c.partition}@${c.offset}`)),
      Promise.resolve()
    ),
    disconnect: () => (calls.push('disconnect'), Promise.resolve()),
  };
  const batch = (partition: number, first: number, last: number) =>
    eachBatch!({
      batch: {
        topic: 't',
        partition,
        messages: Array.from({ length: last - first + 1 }, (_, i) => ({
          offset: String(first + i),
        })),
      },
      resolveOffset: (o: string) => void calls.push(`resolve ${partition}@${o}`),
      heartbeat: () => Promise.resolve(),
      isRunning: () => true,
      isStale: () => false,
    } as unknown as EachBatchPayload);
  return {
    kafka: { consumer: () => consumer } as unknown as Kafka,
    calls,
    batch,
    crash: () => crash?.({ payload: { error: new Error('boom'), restart: true } }),
  };
}

/** A promise the test settles. */
function later() {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('overlapping a batch with its insert', () => {
  it("hands a batch off at once, and commits each partition's batches in order, each after its own store", async () => {
    const f = drivenKafka();
    const stores = [later(), later(), later()];
    let n = 0;
    const stage = makeStage(
      deps(f.kafka),
      'g',
      ['t'],
      () => Promise.resolve({ stored: stores[n++]!.promise }),
      { overlap: true },
    );
    await stage.start();
    await f.batch(0, 0, 9); // returns before its store: the next fetch can go on
    expect(f.calls).toEqual(['resolve 0@9']);
    const second = f.batch(0, 10, 19);
    let secondReturned = false;
    void second.then(() => (secondReturned = true));
    await f.batch(1, 0, 4); // another partition does not wait for partition 0
    stores[1]!.resolve(); // the later batch is stored first: nothing is committed yet
    stores[2]!.resolve();
    await settle(10);
    expect(secondReturned).toBe(false); // at most one batch per partition waits for its store
    expect(f.calls.filter((c) => c.startsWith('commit'))).toEqual(['commit 1@5']);
    stores[0]!.resolve();
    await second;
    await settle(10);
    expect(f.calls.filter((c) => c.startsWith('commit 0'))).toEqual(['commit 0@10', 'commit 0@20']);
    await stage.stop();
  });

  it('with overlapDepth 3 hands off two batches of a partition before the third waits, commits still in order', async () => {
    const f = drivenKafka();
    const stores = Array.from({ length: 6 }, later);
    let n = 0;
    const stage = makeStage(
      deps(f.kafka),
      'g',
      ['t'],
      () => Promise.resolve({ stored: stores[n++]!.promise }),
      { overlap: true, overlapDepth: 3 },
    );
    await stage.start();
    await f.batch(0, 0, 9);
    await f.batch(0, 10, 19); // returns before either store: two batches are in the sink
    const third = f.batch(0, 20, 29);
    let thirdReturned = false;
    void third.then(() => (thirdReturned = true));
    stores[1]!.resolve();
    stores[2]!.resolve();
    await settle(10);
    expect(thirdReturned).toBe(false); // waits for the first batch's commit
    expect(f.calls.filter((c) => c.startsWith('commit'))).toEqual([]);
    stores[0]!.resolve();
    await third;
    await settle(10);
    expect(f.calls.filter((c) => c.startsWith('commit'))).toEqual([
      'commit 0@10',
      'commit 0@20',
      'commit 0@30',
    ]);
    // A failed store: the later batches of the partition fail with it, nothing more is committed.
    const fourth = f.batch(0, 30, 39);
    const fifth = f.batch(0, 40, 49);
    await fourth;
    stores[3]!.reject(new Error('stopping'));
    stores[4]!.resolve();
    stores[5]!.resolve();
    await expect(fifth).resolves.toBeUndefined(); // handed off before the failure was known
    await expect(f.batch(0, 50, 59)).rejects.toThrow('stopping');
    await settle(10);
    expect(f.calls.filter((c) => c.startsWith('commit'))).toHaveLength(3);
    await stage.stop().catch(() => undefined);
  });

  it('after a failed store commits nothing more of that partition until the consumer restarts', async () => {
    const f = drivenKafka();
    const first = later();
    let n = 0;
    const stage = makeStage(
      deps(f.kafka),
      'g',
      ['t'],
      () => Promise.resolve({ stored: n++ === 0 ? first.promise : Promise.resolve() }),
      { overlap: true },
    );
    await stage.start();
    await f.batch(0, 0, 9);
    const second = f.batch(0, 10, 19);
    first.reject(new Error('stopping'));
    await expect(second).rejects.toThrow('stopping');
    // A later batch of the partition (stored fine) still must not commit past the lost one.
    await expect(f.batch(0, 20, 29)).rejects.toThrow('stopping');
    await settle(10);
    expect(f.calls.filter((c) => c.startsWith('commit'))).toEqual([]);
    f.crash(); // kafkajs restarts from the committed offset: batches chain afresh
    await f.batch(0, 0, 9);
    await settle(10);
    expect(f.calls.filter((c) => c.startsWith('commit'))).toEqual(['commit 0@10']);
    await stage.stop();
  });

  it('stop stops fetching, waits for the handed-off batches to be stored and committed, then leaves', async () => {
    const f = drivenKafka();
    const store = later();
    const stage = makeStage(
      deps(f.kafka),
      'g',
      ['t'],
      () => Promise.resolve({ stored: store.promise }),
      {
        overlap: true,
      },
    );
    await stage.start();
    await f.batch(0, 0, 9);
    const stopping = stage.stop();
    await settle(10);
    expect(f.calls).toEqual(['resolve 0@9', 'pause']);
    store.resolve();
    await stopping;
    expect(f.calls).toEqual(['resolve 0@9', 'pause', 'commit 0@10', 'disconnect']);
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

  it('in the {v:2} form (HM_KAFKA_SESSION_FORMAT=2) leaves fields at their default out and restores exactly the fields the records had', () => {
    const tool = span('t', null);
    const llm = {
      ...span('l', 42n),
      spanType: 'llm',
      inputTokens: 12_000,
      cacheReadTokens: 10_000,
      outputTokens: 400,
      toolName: '',
      keyId: '',
      usageCheck: 'cache_split_mismatch',
    } as SpanRecord;
    const encoded = encodeSpanRecords([tool, llm], 2);
    expect(JSON.parse(encoded.toString('utf8'))).toMatchObject({ v: 2 });
    const full = Buffer.from(
      JSON.stringify([tool, llm], (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
    );
    expect(encoded.length).toBeLessThan(full.length * 0.8);
    const back = decodeSpanRecords(encoded);
    expect(back).toEqual([tool, llm]);
    expect(Object.keys(back[1]!).sort()).toEqual(Object.keys(llm).sort()); // '' keyId kept, not dropped
    expect('keyId' in back[0]!).toBe('keyId' in tool);
    // Earlier versions' form (an array of full records) is still read.
    expect(decodeSpanRecords(full)).toEqual([tool, llm]);
  });

  it('sends each span as its changes from the last span of the same name, and restores it exactly', () => {
    const session: SpanRecord[] = [];
    for (let i = 0; i < 20; i++) {
      // A span record as repartition sends it: no priced fields.
      const {
        priceId: _p,
        costNanos: _c,
        inputCostNanos: _i,
        outputCostNanos: _o,
        cacheReadCostNanos: _r,
        cacheWriteCostNanos: _w,
        unpriced: _u,
        ...record
      } = pricedSpan({
        spanId: `s${i}`,
        sessionId: 's1',
        reportedCostNanos: i % 4 === 1 ? BigInt(i) : null,
      });
      const base: SpanRecord = { ...record, traceId: 'trace-1' };
      const at = base.startTimeUnixNano + BigInt(i) * 1_000_000n;
      session.push(
        i % 2
          ? {
              ...base,
              name: 'chat m',
              spanType: 'llm',
              inputTokens: 1000 + i,
              startTimeUnixNano: at,
              endTimeUnixNano: at + 5n,
              spanAttributes: {
                'gen_ai.operation.name': 'chat',
                'gen_ai.usage.input_tokens': `${1000 + i}`,
              },
              ...(i === 3 ? { keyId: 'k1' } : {}), // present on one span only: absent again after it
            }
          : {
              ...base,
              name: 'execute_tool Read',
              toolName: 'Read',
              startTimeUnixNano: at,
              endTimeUnixNano: at + 7n,
              spanAttributes: { 'gen_ai.tool.name': 'Read', 'harness_meter.tool.class': 'read' },
            },
      );
    }
    const encoded = encodeSpanRecords(session);
    const back = decodeSpanRecords(encoded);
    expect(back).toEqual(session);
    expect(back.map((r) => 'keyId' in r)).toEqual(session.map((r) => 'keyId' in r));
    // Attribute order is kept (a Map column stores it).
    expect(back.map((r) => Object.keys(r.spanAttributes))).toEqual(
      session.map((r) => Object.keys(r.spanAttributes)),
    );
    // What is shared with the base is not sent again: under a third of the earlier compact form.
    const v2 = JSON.stringify({
      v: 2,
      spans: session.map((r) => JSON.parse(encodeSpanRecord(r).toString('utf8')) as unknown),
    });
    expect(encoded.length).toBeLessThan(v2.length / 3);
    expect(JSON.parse(encoded.toString('utf8'))).toMatchObject({ v: 3 });
  });

  it('sends every field that differs from the base, and a field this version does not know as it is', () => {
    const {
      priceId: _p,
      costNanos: _c,
      inputCostNanos: _i,
      outputCostNanos: _o,
      cacheReadCostNanos: _r,
      cacheWriteCostNanos: _w,
      unpriced: _u,
      ...first
    } = pricedSpan({ spanId: 'a', sessionId: 's1', reportedCostNanos: null });
    // Every field of the second record differs from the first's (a field the delta forgot would
    // come back as the first record's value).
    const changed = Object.fromEntries(
      Object.entries(first).map(([k, v]) => [
        k,
        typeof v === 'string'
          ? `${v}-2`
          : typeof v === 'number'
            ? v + 1
            : typeof v === 'bigint'
              ? v + 1n
              : typeof v === 'boolean'
                ? !v
                : v === null
                  ? 5n
                  : { [`${k}.changed`]: 'yes' },
      ]),
    );
    const second = { ...changed, keyId: 'k2', futureField: 'kept' } as unknown as SpanRecord;
    expect(Object.keys(first).length).toBeGreaterThanOrEqual(43);
    const back = decodeSpanRecords(encodeSpanRecords([first, second]));
    expect(back).toEqual([first, second]);
  });

  it("sends an attribute map as the values that changed when its keys are the base's, in order", () => {
    const attributes = (tokens: number, extra?: string): Record<string, string> => ({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet-4-5',
      'gen_ai.conversation.id': 's1',
      'gen_ai.usage.input_tokens': String(tokens),
      ...(extra ? { [extra]: 'x' } : {}),
    });
    const calls = [1000, 1200, 1500, 1500].map((tokens, i) => ({
      ...span(`c${i}`, null),
      traceId: 'trace-1',
      spanAttributes: attributes(tokens, i === 3 ? 'gen_ai.response.id' : undefined),
    }));
    const encoded = encodeSpanRecords(calls);
    const sent = (JSON.parse(encoded.toString('utf8')) as { spans: Record<string, unknown>[] })
      .spans;
    expect(sent[1]!['spanAttributes+']).toEqual({ 'gen_ai.usage.input_tokens': '1200' });
    expect(sent[1]!.spanAttributes).toBeUndefined();
    expect(sent[3]!.spanAttributes).toEqual(calls[3]!.spanAttributes); // a new key: sent whole
    const back = decodeSpanRecords(encoded);
    expect(back).toEqual(calls);
    expect(back.map((r) => Object.keys(r.spanAttributes))).toEqual(
      calls.map((r) => Object.keys(r.spanAttributes)),
    );
    const bad = JSON.stringify({
      v: 3,
      spans: [sent[0], { ...sent[1], 'spanAttributes+': { nope: '1' } }],
    });
    expect(() => decodeSpanRecords(Buffer.from(bad))).toThrow(/"nope" is not in the base.s map/);
  });

  it('keeps an attribute named __proto__ an attribute, also when its value changes', () => {
    const attrs = (v: string) =>
      JSON.parse(`{"__proto__":"${v}","b":"2","c":"3","d":"4"}`) as Record<string, string>;
    const calls = ['1', '9'].map((v, i) => ({
      ...span(`p${i}`, null),
      traceId: 'trace-1',
      spanAttributes: attrs(v),
    }));
    const back = decodeSpanRecords(encodeSpanRecords(calls));
    expect(back.map((r) => JSON.stringify(r.spanAttributes))).toEqual(
      calls.map((r) => JSON.stringify(r.spanAttributes)),
    );
    expect(Object.getPrototypeOf(back[1]!.spanAttributes)).toBe(Object.prototype);
  });

  it('still reads the earlier compact form ({"v":2}: records without their default fields)', () => {
    const message = Buffer.from(
      JSON.stringify({
        v: 2,
        spans: [
          {
            traceId: 't1',
            spanId: 'a',
            spanType: 'llm',
            startTimeUnixNano: '10',
            endTimeUnixNano: '20',
            inputTokens: 7,
            resourceAttributes: {},
            spanAttributes: {},
          },
        ],
      }),
    );
    const [r] = decodeSpanRecords(message);
    expect(r).toMatchObject({ spanId: 'a', inputTokens: 7, outputTokens: 0, toolName: '' });
    expect(r?.startTimeUnixNano).toBe(10n);
    expect(r?.reportedCostNanos).toBeNull();
  });

  it('refuses a message of an unknown version, saying which and what to do', () => {
    expect(() => decodeSpanRecords(Buffer.from('{"v":4,"spans":[]}'))).toThrow(
      /unknown session-topic message version 4 .*upgrade every enrich process/,
    );
  });

  it('refuses a delta whose base is not an earlier record, or whose times are not integers', () => {
    const first = {
      traceId: 't',
      spanId: 'a',
      spanType: 'tool',
      startTimeUnixNano: '1',
      endTimeUnixNano: '2',
    };
    const msg = (spans: unknown[]) => Buffer.from(JSON.stringify({ v: 3, spans }));
    expect(decodeSpanRecords(msg([first, { spanId: 'b', '@': 1 }])).map((r) => r.spanId)).toEqual([
      'a',
      'b',
    ]);
    expect(() => decodeSpanRecords(msg([first, { spanId: 'b', '@': 2 }]))).toThrow(
      /base 2 is not an earlier record/,
    );
    expect(() => decodeSpanRecords(msg([{ ...first, '@': 1 }]))).toThrow(PoisonMessageError);
    expect(() => decodeSpanRecords(msg([{ ...first, startTimeUnixNano: '0x10' }]))).toThrow(
      /startTimeUnixNano="0x10" is not an integer string/,
    );
    expect(() => decodeSpanRecords(msg([{ spanId: 'a' }]))).toThrow(/traceId, spanId and spanType/);
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
