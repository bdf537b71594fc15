// Where the Kafka pipeline's CPU goes: a V8 CPU profile of the bench process (the JS thread) taken
// with node:inspector around one pipeline run, its samples sorted into the stages of the path, in µs
// per span. Each sample goes to the first frame, from the leaf up, whose function or file names a
// stage (a Buffer copy called from kafkajs's decoder counts as fetch decode). chDB's insert threads
// and V8's helper threads are not on the JS thread: they are the process CPU the profile does not see.
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';

/** [bucket, test on (functionName, url)], first match wins, checked on each frame from the leaf up. */
const RULES = [
  // The profiler's own Profiler.stop (serializing the profile): not the pipeline's, left out.
  ['(profiler)', (_f, u) => u === 'node:inspector'],
  ['GC', (f) => f === '(garbage collector)'],
  ['kafkajs crc32c (produce)', (_f, u) => u.includes('kafkajs/src/protocol/recordBatch/crc32C')],
  [
    'kafkajs produce encode',
    (_f, u) =>
      u.includes('kafkajs/src/protocol/encoder') ||
      u.includes('kafkajs/src/protocol/requests/produce') ||
      u.includes('kafkajs/src/producer') ||
      u.includes('kafkajs/src/protocol/recordBatch/v0/index') ||
      u.includes('kafkajs/src/protocol/recordBatch/record/v0/index') ||
      u.includes('kafkajs/src/protocol/recordBatch/header/v0/index'),
  ],
  [
    'kafkajs fetch decode',
    (_f, u) =>
      u.includes('kafkajs/src/protocol/decoder') ||
      u.includes('kafkajs/src/protocol/requests/fetch') ||
      u.includes('kafkajs/src/protocol/recordBatch') ||
      u.includes('kafkajs/src/protocol/message') ||
      u.includes('kafkajs/src/consumer/batch') ||
      u.includes('kafkajs/src/protocol/requests/index'),
  ],
  [
    'decompress',
    (_f, u) => u.includes('kafkajs/src/protocol/message/compression') || u.includes('node:zlib'),
  ],
  ['kafkajs other (network, runner)', (_f, u) => u.includes('kafkajs/') || u.includes('/long/')],
  [
    'session-topic encode',
    (f, u) => u.includes('dist/kafka/codec') && /encode|toCompact|toJsonable|toRow/i.test(f),
  ],
  ['session-topic decode', (_f, u) => u.includes('dist/kafka/codec')],
  ['OTLP decode', (_f, u) => u.includes('dist/decode/') || u.includes('protobufjs')],
  ['price', (_f, u) => u.includes('dist/price/') || u.includes('dist/stamp')],
  ['row values (toSpanValues)', (_f, u) => u.includes('dist/sink/rows')],
  [
    'row text (JSON) + chDB call',
    (_f, u) => u.includes('queries/dist/client') || u.includes('/chdb/'),
  ],
  ['dedup / key filter / sink', (_f, u) => u.includes('dist/sink/')],
  ['stage glue (consumers, metrics)', (_f, u) => u.includes('pipeline/dist/')],
];

function bucketOf(stack) {
  for (const cf of stack) {
    const url = cf.url ?? '';
    for (const [name, test] of RULES) if (test(cf.functionName, url)) return name;
  }
  const leaf = stack[0];
  if (leaf?.functionName === '(idle)') return '(idle)';
  if (leaf?.functionName === '(program)') return '(program: V8/native, unattributed)';
  return 'other (node internals, timers, microtasks)';
}

/** Self time per bucket (µs) of a V8 CPU profile. */
export function breakdown(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const cache = new Map();
  const out = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    let bucket = cache.get(id);
    if (bucket === undefined) {
      const stack = [];
      for (let at = id; at !== undefined; at = parent.get(at)) stack.push(byId.get(at).callFrame);
      bucket = bucketOf(stack);
      cache.set(id, bucket);
    }
    out.set(bucket, (out.get(bucket) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  return out;
}

/** Starts a CPU profile of this process; `stop(file)` writes it and returns the breakdown. */
export async function startProfile() {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      if (file) writeFileSync(file, JSON.stringify(profile));
      return breakdown(profile);
    },
  };
}

/**
 * Lines of the breakdown in µs per span. The profile's samples measure wall time: on a loaded machine
 * a thread that is ready but not running is counted too. With the JS thread's measured CPU
 * (`jsThreadMicros`, from /proc) each bucket is scaled to it, so the buckets sum to that CPU;
 * without it they are the profile's wall time.
 */
export function describeBreakdown(buckets, spans, processCpuMicros, jsThreadMicros) {
  const busy = [...buckets].filter(([b]) => b !== '(idle)' && b !== '(profiler)');
  const profiled = busy.reduce((n, [, v]) => n + v, 0);
  const scale = jsThreadMicros === undefined || profiled === 0 ? 1 : jsThreadMicros / profiled;
  const js = profiled * scale;
  const lines = busy
    .sort((a, b) => b[1] - a[1])
    .map(([b, v]) => `    ${((v * scale) / spans).toFixed(1).padStart(6)} µs/span  ${b}`);
  lines.push(
    `    ${(js / spans).toFixed(1).padStart(6)} µs/span  = JS thread ${jsThreadMicros === undefined ? 'busy (profiled wall time)' : `CPU (/proc; the profile's busy wall time was ${(profiled / spans).toFixed(1)})`}`,
  );
  lines.push(
    `    ${((processCpuMicros - js) / spans).toFixed(1).padStart(6)} µs/span  + other threads of the process (chDB's insert, V8's GC and compiler helpers, I/O)`,
  );
  return lines;
}
