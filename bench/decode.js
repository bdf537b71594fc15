// Decode + price + redaction on one core, no I/O (issue 17, "Decode + price": >= 150,000 spans/s).
// Realistic protobuf ExportTraceServiceRequest bodies (500 spans each, 40 % LLM spans with GenAI
// usage, 60 % tool spans, session/developer/repo/branch attributes as the SDK emits them) go
// through decodeTraceRequest and priceBook.priceSpan (+ the cost range check), exactly as the
// embedded receiver does. Baseline in the same run: protobuf bytes -> plain object with protobufjs'
// decode + toObject on the same .proto types (what decode did before), no records, no pricing.
// Scale: HM_BENCH_DECODE_REQUESTS (distinct bodies, default 40 = 20,000 spans),
// HM_BENCH_DECODE_ROUNDS (timed passes, default 7; median reported). Every pass decodes bodies of its own,
// with the same sessions but new trace ids, span ids, result hashes and times, as a server sees them:
// a decoder that remembered ids across passes would otherwise be timed on hits real traffic never gives.
// Before/after: HM_BENCH_DECODE_BEFORE=<a pipeline/dist built from another commit, its data/ and proto/
// beside it> times that build's decode + price too on the same bodies, alternating with this one
// (printed, not a BENCH_RESULT).
// Receiver path (second figure): the same bodies through the embedded receiver's own span path
// (createSpanPath: decode, session stamps, key binding, pricing, the cost range check) into a sink
// that only does the sink's per-span CPU work (the dedup key and the JSONCompactEachRow line), no
// HTTP and no chDB. It is the CPU a receiver spends per span outside the store, so a change that
// speeds decode but slows what comes after it shows here. With HM_BENCH_DECODE_BEFORE, that build's
// path runs alternating with this one's.
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { decodeTraceRequest, encodeTraceRequestProtobuf } from '../pipeline/dist/decode/index.js';
import { otlpType, TRACE_REQUEST } from '../pipeline/dist/decode/proto.js';
import { costOutOfRange, loadPriceBook } from '../pipeline/dist/price/index.js';

const BEFORE = process.env.HM_BENCH_DECODE_BEFORE;
const REQUESTS = Number(process.env.HM_BENCH_DECODE_REQUESTS ?? 40);
const ROUNDS = Number(process.env.HM_BENCH_DECODE_ROUNDS ?? 7);
const PER_REQUEST = 500;
const SESSIONS = 200;
const AIM = 150_000;

const MODELS = [
  ['anthropic', 'claude-sonnet-4-5'],
  ['anthropic', 'claude-opus-4-1'],
  ['anthropic', 'claude-haiku-4-5'],
  ['openai', 'gpt-5'],
  ['openai', 'gpt-5-mini'],
];
const TOOLS = [
  ['Read', 'read'],
  ['Edit', 'write'],
  ['Grep', 'search'],
  ['Bash', 'exec'],
  ['WebFetch', 'fetch'],
];
const hex = (n, width) => n.toString(16).padStart(width, '0').slice(-width);
const hash = (n) => hex(Math.imul(n, 2654435761) >>> 0, 8).repeat(8); // 64 hex chars, like sha256
const str = (key, v) => ({ key, value: { stringValue: v } });
const int = (key, v) => ({ key, value: { intValue: String(v) } });

function request(r, pass) {
  const t0 = BigInt(Date.UTC(2026, 10, 20, 9, 0, 0)) * 1_000_000n;
  const spans = [];
  for (let k = 0; k < PER_REQUEST; k++) {
    const j = r * PER_REQUEST + k;
    const session = j % SESSIONS;
    const u = pass * REQUESTS * PER_REQUEST + j; // unique across passes
    const trace = pass * SESSIONS + session;
    const llm = k % 5 < 2; // 40 % LLM
    const start = t0 + BigInt(u) * 3_000_000n;
    const common = [
      str('gen_ai.conversation.id', `session-${session.toString(36)}-7f3a9c`),
      str('session.id', `session-${session.toString(36)}-7f3a9c`),
      str('user.id', `dev${session % 40}@example.com`),
      str('harness_meter.team', `team-${session % 6}`),
      str('vcs.repository.url.full', `https://github.com/acme/service-${session % 12}`),
      str('vcs.ref.head.name', `feature/ticket-${1000 + (session % 90)}`),
      str('vcs.ref.head.revision', hex(session * 7919, 8).repeat(5)),
      str('vcs.change.id', String(100 + (session % 80))),
      str('harness_meter.task.intent', session % 3 ? 'feature' : 'bugfix'),
    ];
    let attributes;
    let name;
    if (llm) {
      const [provider, model] = MODELS[j % MODELS.length];
      name = `chat ${model}`;
      attributes = [
        str('gen_ai.operation.name', 'chat'),
        str('gen_ai.provider.name', provider),
        str('gen_ai.request.model', model),
        str('gen_ai.response.model', model),
        str('gen_ai.response.id', `msg_${hex(j * 31, 12)}${hex(j, 12)}`),
        ...common,
        int('gen_ai.usage.input_tokens', 20_000 + (j % 5000)),
        int('gen_ai.usage.output_tokens', 200 + (j % 800)),
        int('gen_ai.usage.cache_read.input_tokens', 15_000 + (j % 3000)),
        int('gen_ai.usage.cache_creation.input_tokens', j % 7 === 0 ? 1200 : 0),
      ];
    } else {
      const [tool, cls] = TOOLS[j % TOOLS.length];
      name = `execute_tool ${tool}`;
      attributes = [
        str('gen_ai.operation.name', 'execute_tool'),
        str('gen_ai.tool.name', tool),
        str('gen_ai.tool.call.id', `toolu_01${hex(j * 17, 10)}${hex(j, 12)}`),
        ...common,
        str('harness_meter.tool.class', cls),
        str('harness_meter.tool.args_hash', hash(j % 997)),
        str('harness_meter.tool.target_hash', hash(j % 331)),
        int('harness_meter.tool.args_bytes', 80 + (j % 300)),
        int('harness_meter.tool.result_bytes', 1000 + (j % 20_000)),
        int('harness_meter.tool.result_tokens', 250 + (j % 5000)),
        str('harness_meter.tool.result_hash', hash(u)),
      ];
    }
    spans.push({
      traceId: hex(trace + 1, 8).repeat(4),
      spanId: hex(u + 1, 16),
      parentSpanId: hex(trace * 100_003 + 1, 16),
      name,
      kind: llm ? 3 : 1,
      startTimeUnixNano: String(start),
      endTimeUnixNano: String(start + (llm ? 2_500_000_000n : 40_000_000n)),
      attributes,
      status: { code: j % 23 === 0 ? 2 : 0 },
    });
  }
  // The resource the SDK's start() builds: service, source, default and detected attributes.
  const resource = [
    str('service.name', 'claude-code'),
    str('harness_meter.source', 'sdk'),
    str('telemetry.sdk.language', 'nodejs'),
    str('telemetry.sdk.name', 'opentelemetry'),
    str('telemetry.sdk.version', '2.0.1'),
    str('host.name', `laptop-${r % 40}`),
    str('host.arch', 'amd64'),
    str('os.type', 'linux'),
  ];
  return Buffer.from(
    encodeTraceRequestProtobuf({
      resourceSpans: [
        {
          resource: { attributes: resource },
          scopeSpans: [{ scope: { name: '@harness-meter/instrumentation' }, spans }],
        },
      ],
    }),
  );
}

// One set of bodies per pass: the warm-up's, then one per round (the baseline and this build read it in turn).
const sets = Array.from({ length: ROUNDS + 1 }, (_, p) =>
  Array.from({ length: REQUESTS }, (_, r) => request(r, p)),
);
const bytes = sets[0].reduce((n, b) => n + b.length, 0);
const total = REQUESTS * PER_REQUEST;
const priceBook = loadPriceBook(undefined);
const type = otlpType(TRACE_REQUEST);

let sink = 0; // keeps results alive
function baselinePass(bodies) {
  for (const body of bodies) {
    const o = type.toObject(type.decode(body), {
      longs: String,
      bytes: String,
      enums: Number,
      defaults: false,
      arrays: true,
    });
    sink += o.resourceSpans.length;
  }
}
let unpriced = 0;
const before = BEFORE
  ? {
      decode: (await import(path.resolve(BEFORE, 'decode/index.js'))).decodeTraceRequest,
      book: (await import(path.resolve(BEFORE, 'price/index.js'))).loadPriceBook(undefined),
    }
  : undefined;
/** A build's receiver span path over a sink that does the sink's per-span CPU work only. */
async function receiverPath(dist) {
  const { createSpanPath } = await import(path.resolve(dist, 'embedded.js'));
  const { loadPriceBook: load } = await import(path.resolve(dist, 'price/index.js'));
  const { spanKey, toSpanValues } = await import(path.resolve(dist, 'sink/rows.js'));
  // The WAL sink's own record (ids line + rows) when the build has one, as the receiver writes it.
  const walRecords = await import(path.resolve(dist, 'sink/wal-records.js')).catch(() => undefined);
  const spanPath = createSpanPath(load(undefined), {
    write: async (spans) => {
      for (const s of spans) sink += spanKey(s).length;
      if (walRecords !== undefined) {
        sink += walRecords.encodeSpanRecord(spans).length;
      } else {
        let text = '';
        for (const s of spans) text += JSON.stringify(toSpanValues(s)) + '\n';
        sink += text.length;
      }
      return { inserted: spans.length, duplicates: 0, refused: 0, reasons: [] };
    },
    flush: async () => {},
    close: async () => {},
    storedBatches: () => 0,
  });
  return async (bodies) => {
    for (const body of bodies) {
      const r = await spanPath.handleTraces(body, 'protobuf');
      if (r.rejected > 0) throw new Error(`refused spans: ${r.message}`);
    }
  };
}
const ourPath = await receiverPath(fileURLToPath(new URL('../pipeline/dist', import.meta.url)));
const beforePath = BEFORE ? await receiverPath(BEFORE) : undefined;
function beforePass(bodies) {
  for (const body of bodies) {
    const decoded = before.decode(body, 'protobuf');
    if (decoded.rejectedSpans > 0) throw new Error(`refused spans: ${decoded.errors[0]}`);
    for (const record of decoded.spans)
      sink += before.book.priceSpan(record).costNanos === null ? 0 : 1;
  }
}
function decodePass(bodies) {
  for (const body of bodies) {
    const decoded = decodeTraceRequest(body, 'protobuf');
    if (decoded.rejectedSpans > 0) throw new Error(`refused spans: ${decoded.errors[0]}`);
    for (const record of decoded.spans) {
      const priced = priceBook.priceSpan(record);
      if (costOutOfRange(priced) !== undefined) throw new Error('cost out of range');
      if (priced.unpriced) unpriced++;
      sink += priced.costNanos === null ? 0 : 1;
    }
  }
}
// Wall time and process CPU time (user + system, GC threads included) of one pass, in ms. On a
// machine shared with other work the CPU time is the steadier measure of "one core".
function timed(pass, bodies) {
  const c = process.cpuUsage();
  const t = performance.now();
  pass(bodies);
  const cpu = process.cpuUsage(c);
  return { wall: performance.now() - t, cpu: (cpu.user + cpu.system) / 1000 };
}
async function timedAsync(pass, bodies) {
  const c = process.cpuUsage();
  const t = performance.now();
  await pass(bodies);
  const cpu = process.cpuUsage(c);
  return { wall: performance.now() - t, cpu: (cpu.user + cpu.system) / 1000 };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Warm-up (JIT, price resolution cache), then alternate the two so load drifts hit both alike.
timed(baselinePass, sets[0]);
timed(decodePass, sets[0]);
if (before) timed(beforePass, sets[0]);
unpriced = 0;
const base = [];
const ours = [];
const prior = [];
for (let i = 0; i < ROUNDS; i++) {
  base.push(timed(baselinePass, sets[i + 1]));
  if (before && i % 2 === 0) prior.push(timed(beforePass, sets[i + 1]));
  ours.push(timed(decodePass, sets[i + 1]));
  if (before && i % 2 === 1) prior.push(timed(beforePass, sets[i + 1]));
}
// The receiver path on bodies of its own (ids unseen by the passes above), this build and the
// build before alternating.
const pathSets = Array.from({ length: ROUNDS + 1 }, (_, p) =>
  Array.from({ length: REQUESTS }, (_, r) => request(r, ROUNDS + 1 + p)),
);
await timedAsync(ourPath, pathSets[0]);
if (beforePath) await timedAsync(beforePath, pathSets[0]);
const oursPath = [];
const priorPath = [];
for (let i = 0; i < ROUNDS; i++) {
  if (beforePath && i % 2 === 0) priorPath.push(await timedAsync(beforePath, pathSets[i + 1]));
  oursPath.push(await timedAsync(ourPath, pathSets[i + 1]));
  if (beforePath && i % 2 === 1) priorPath.push(await timedAsync(beforePath, pathSets[i + 1]));
}
const rate = (ms) => Math.round(total / (ms / 1000));
// Each round times both builds back to back on a loaded machine: the median of the rounds' own
// before/after ratios drifts less with the load than the ratio of the two medians.
const pairs = (before, after) => median(before.map((b, i) => b.cpu / after[i].cpu)).toFixed(2);
const wall = (xs) => median(xs.map((x) => x.wall));
const cpu = (xs) => median(xs.map((x) => x.cpu));
const oursRate = rate(cpu(ours));
const baseRate = rate(cpu(base));
const require = createRequire(import.meta.url);
const pbVersion = require('protobufjs/package.json').version;
const load = Number(os.loadavg()[0].toFixed(2));

console.log(
  `decode-price  node ${process.version}  ${os.platform()} ${os.arch()}, ${os.cpus().length} cores  protobufjs ${pbVersion}`,
);
console.log(
  `  ${REQUESTS} protobuf requests x ${PER_REQUEST} spans (${total} spans, ${(bytes / 1e6).toFixed(1)} MB), 40 % LLM / 60 % tool, ${SESSIONS} sessions; 1 warm-up + ${ROUNDS} rounds alternating with the baseline, median of each; unpriced LLM spans per round: ${unpriced / ROUNDS}`,
);
const line = (label, xs) =>
  `  ${label.padEnd(40)} ${String(rate(cpu(xs))).padStart(7)} spans/CPU-s  ${((cpu(xs) * 1000) / total).toFixed(2)} µs CPU/span   wall: ${rate(wall(xs))} spans/s`;
console.log(line('baseline: protobufjs decode + toObject', base));
console.log(line('decode + price + redaction', ours));
console.log(`  ratio (CPU time) ${(oursRate / baseRate).toFixed(2)}x the baseline`);
if (before) {
  console.log(`  before = ${BEFORE}`);
  console.log(line('before: decode + price + redaction', prior));
  console.log(
    `  after / before (CPU time) ${(cpu(prior) / cpu(ours)).toFixed(2)}x; median of the rounds' own ratios ${pairs(prior, ours)}x`,
  );
}
console.log(line('receiver path (decode … sink rows)', oursPath));
if (beforePath) {
  console.log(line(`before: receiver path`, priorPath));
  console.log(
    `  after / before (CPU time) ${(cpu(priorPath) / cpu(oursPath)).toFixed(2)}x; median of the rounds' own ratios ${pairs(priorPath, oursPath)}x`,
  );
}
console.log(`  load average (1 min) ${load}${sink < 0 ? '' : ''}`);
console.log(
  `BENCH_RESULT ${JSON.stringify({
    id: 'decode-price',
    label: 'decode + price + redaction, one core (process CPU time), protobuf, 500 spans/request',
    value: oursRate,
    unit: 'spans/s',
    baseline: baseRate,
    baselineLabel: 'protobufjs decode + toObject of the same bodies',
    aim: `>= ${AIM}`,
    met: oursRate >= AIM,
    load,
  })}`,
);
const pathRate = rate(cpu(oursPath));
const pathBefore = beforePath ? rate(cpu(priorPath)) : null;
console.log(
  `BENCH_RESULT ${JSON.stringify({
    id: 'decode-receiver-path',
    label:
      "the receiver's span path without HTTP or chDB (decode, stamps, key binding, price, sink rows), process CPU time",
    value: pathRate,
    unit: 'spans/s',
    baseline: pathBefore,
    baselineLabel: beforePath ? `the build at ${BEFORE}, same bodies, alternating` : '',
    aim: 'not slower than the build before',
    met: pathBefore === null || pathRate >= pathBefore,
    load,
  })}`,
);
