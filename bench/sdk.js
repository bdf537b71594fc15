// Benchmark: the SDK's per-call cost. In one process, with the same tracer provider (the session
// processor, then a batch processor over a no-op exporter, as startTelemetry installs them), it
// times N awaited calls each of: a bare `tracer.startActiveSpan` carrying the same attributes the
// SDK's span ends with (the baseline), `toolCall` in a session, `llmCall` in a session, and
// Traceloop's `withTool` (installed into a temp folder for the bench only, never a dependency).
// Variants run interleaved in rounds; each figure is the fastest round (the least disturbed by
// other processes; the median is printed beside it). HM_BENCH_SDK_BEFORE=<path
// to another build's instrumentation dist/index.js> first measures that build in a child process
// (two SDK copies in one process would slow both: shared OpenTelemetry code turns polymorphic),
// then compares its spans with this build's.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

const CALLS = Number(process.env.HM_BENCH_SDK_CALLS ?? 10_000);
const ROUNDS = Number(process.env.HM_BENCH_SDK_ROUNDS ?? 9);
const RESULT_LINES = Number(process.env.HM_BENCH_SDK_RESULT_LINES ?? 40);
const TRACELOOP_DIR =
  process.env.HM_BENCH_TRACELOOP_DIR ?? path.join(os.tmpdir(), 'hm-bench-traceloop');
const BEFORE = process.env.HM_BENCH_SDK_BEFORE;
/** Set in the child that measures the before build. */
const BUILD = process.env.HM_BENCH_SDK_BUILD;

const noopExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: () => Promise.resolve(),
  forceFlush: () => Promise.resolve(),
};
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

// The tool calls, in rotation over 16 files: a Read of RESULT_LINES numbered source lines
// (40: about 2.3 KB), a Grep, a Bash run of the tests and an Edit, as a coding agent makes them.
const lines = (n, f) => Array.from({ length: n }, (_, i) => f(i)).join('\n');
const readResult = lines(
  RESULT_LINES,
  (i) => `${String(i + 1).padStart(6)}\tconst value${i} = compute(${i}, options.limit ?? 100);`,
);
const FILES = Array.from({ length: 16 }, (_, i) => `src/module-${i}/index.ts`);
const toolCalls = FILES.flatMap((file, i) => [
  {
    request: {
      name: 'Read',
      callId: `toolu_r${i}`,
      args: { file_path: `/repo/${file}`, offset: 1, limit: RESULT_LINES },
    },
    result: readResult,
  },
  {
    request: { name: 'Grep', callId: `toolu_g${i}`, args: { pattern: `value${i}`, path: 'src' } },
    result: lines(8, (j) => `src/module-${j}/index.ts:${j + 3}:  const value${i} = 1;`),
  },
  {
    request: {
      name: 'Bash',
      callId: `toolu_b${i}`,
      args: { command: `npx vitest run test/module-${i}.test.ts`, description: 'run the tests' },
    },
    result: lines(12, (j) => ` ✓ test/module-${i}.test.ts > case ${j} 3ms`),
  },
  {
    request: {
      name: 'Edit',
      callId: `toolu_e${i}`,
      args: {
        file_path: `/repo/${file}`,
        old_string: `const value${i} = compute(${i});`,
        new_string: `const value${i} = compute(${i}, options);`,
      },
    },
    result: `The file /repo/${file} has been updated.`,
  },
]);
/**
 * Requests not seen recently, as a harness gets them (parsed from the model's JSON): the same four
 * tools over the same files, each with something new (the Read's offset, the Grep's pattern, a
 * test filter, the Edit's text). Made before timing, 20,000 of them in turn: far more than the SDK
 * remembers, so nothing remembered of earlier requests applies.
 */
const newRequest = (n) => {
  const { request } = toolCalls[n % toolCalls.length];
  const a = request.args;
  const args =
    request.name === 'Read'
      ? { ...a, offset: 1 + n }
      : request.name === 'Grep'
        ? { ...a, pattern: `${a.pattern}_${n}` }
        : request.name === 'Bash'
          ? { ...a, command: `${a.command} -t case${n}` }
          : { ...a, new_string: `${a.new_string} // ${n}` };
  return JSON.parse(JSON.stringify({ ...request, args }));
};
const newRequests = Array.from({ length: 20_000 }, (_, n) => newRequest(n));
const toolResults = toolCalls.map(
  ({ result }) =>
    () =>
      Promise.resolve(result),
);
const llmRequest = { provider: 'anthropic', model: 'claude-sonnet-4-5' };
const llmResponse = {
  id: 'msg_01',
  type: 'message',
  model: 'claude-sonnet-4-5-20250929',
  stop_reason: 'tool_use',
  usage: {
    input_tokens: 1200,
    output_tokens: 300,
    cache_read_input_tokens: 40_000,
    cache_creation_input_tokens: 2000,
  },
};
const sessionContext = {
  sessionId: 'bench-session',
  agentName: 'coder',
  developer: 'ana',
  team: 'platform',
  repositoryUrl: 'https://github.com/acme/api.git',
  branch: 'feature/x',
  cwd: '/repo',
};
const llmResult = () => Promise.resolve(llmResponse);

/** The SDK under test over its own provider; also the attributes its spans end with. */
async function harness(sdk, label) {
  const provider = new BasicTracerProvider({
    spanProcessors: [new sdk.SessionSpanProcessor(), new BatchSpanProcessor(noopExporter)],
  });
  const hm = sdk.createHarnessTracer({ tracerProvider: provider });
  // One call of each, recorded in memory, gives the attributes the bare span must carry.
  const seen = [];
  const probe = new BasicTracerProvider({
    spanProcessors: [new sdk.SessionSpanProcessor(), { onStart() {}, onEnd: (s) => seen.push(s) }],
  });
  const probeHm = sdk.createHarnessTracer({ tracerProvider: probe });
  await probeHm.withSession(sessionContext, async () => {
    for (const [i, { request }] of toolCalls.entries())
      await probeHm.toolCall(request, toolResults[i]);
    await probeHm.llmCall(llmRequest, llmResult);
  });
  const tools = seen.slice(0, toolCalls.length);
  return { label, provider, hm, tools, llm: seen[toolCalls.length] };
}

/**
 * Times `calls` awaited calls of f: CPU µs per call (user + system, every thread of the process,
 * so garbage collection counts), which other processes loading the machine do not inflate.
 */
async function time(f, calls) {
  const c0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) await f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / calls;
}

/** A bare span as a hand-instrumented harness makes it: the same name, kind and attributes. */
function bareSpan(tracer, span, fn) {
  const attributes = { ...span.attributes };
  return () =>
    tracer.startActiveSpan(span.name, { kind: span.kind, attributes }, async (s) => {
      try {
        return await fn();
      } finally {
        s.end();
      }
    });
}

/** Calls f(0), f(1), … f(n - 1), f(0), … */
const rotate = (fs) => {
  let i = 0;
  return () => fs[i++ % fs.length]();
};

/** Traceloop's SDK from the temp folder, installed there when missing; or why it is not there. */
async function loadTraceloop() {
  const pkg = path.join(TRACELOOP_DIR, 'node_modules', '@traceloop', 'node-server-sdk');
  try {
    if (!existsSync(pkg)) {
      console.log(`installing @traceloop/node-server-sdk into ${TRACELOOP_DIR} (bench only) …`);
      execFileSync(
        'npm',
        [
          'install',
          '--prefix',
          TRACELOOP_DIR,
          '--no-audit',
          '--no-fund',
          '--no-save',
          '@traceloop/node-server-sdk',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 },
      );
    }
    const { version } = JSON.parse(readFileSync(path.join(pkg, 'package.json'), 'utf8'));
    // its ES module build calls require(); the CommonJS build loads
    const traceloop = createRequire(path.join(TRACELOOP_DIR, 'index.js'))(
      '@traceloop/node-server-sdk',
    );
    traceloop.initialize({
      appName: 'hm-bench',
      exporter: noopExporter,
      traceloopSyncEnabled: false,
      silenceInitializationMessage: true,
    });
    return { traceloop, version };
  } catch (e) {
    return { why: e instanceof Error ? e.message.split('\n')[0] : String(e) };
  }
}

// The before build, alone in its own process; it prints one `SDK_BEFORE {…}` line.
let before;
if (BEFORE && !BUILD) {
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], {
    // Traceloop is loaded there too (not measured): loading it slows the SDK's calls in a process
    // (about 4 µs a new tool call in our runs), so both builds run in the same conditions
    env: { ...process.env, HM_BENCH_SDK_BUILD: BEFORE },
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  const line = child.stdout.split('\n').find((l) => l.startsWith('SDK_BEFORE '));
  if (line) before = JSON.parse(line.slice('SDK_BEFORE '.length));
  else console.log(`before build not measured: ${child.stderr.trim().split('\n').at(-1)}`);
}
const sdk = await import(BUILD ? pathToFileURL(BUILD).href : '../instrumentation/dist/index.js');
const label = BUILD ? 'before' : 'this build';
const subjects = [await harness(sdk, label)];
// Both builds must make the same spans for the same calls: names, kinds, attributes, status.
const facts = (s) =>
  JSON.stringify([...s.tools, s.llm].map((x) => [x.name, x.kind, x.attributes, x.status]));
const tl =
  process.env.HM_BENCH_TRACELOOP === 'off'
    ? { why: 'HM_BENCH_TRACELOOP=off' }
    : await loadTraceloop();
if (!BUILD && tl.why) console.log(`Traceloop not measured: ${tl.why}`);

const main = subjects[0];
const tracer = main.provider.getTracer('bench-bare');
const variants = [
  {
    id: 'bare-tool',
    label: 'bare span, tool attributes',
    run: rotate(main.tools.map((span, i) => bareSpan(tracer, span, toolResults[i]))),
  },
  {
    id: 'bare-llm',
    label: 'bare span, LLM attributes',
    run: bareSpan(tracer, main.llm, llmResult),
  },
];
for (const s of subjects) {
  const inSession = (f) => () => s.hm.withSession(sessionContext, f);
  variants.push(
    {
      id: `toolcall-${s.label}`,
      label: `toolCall (${s.label})`,
      session: inSession,
      run: rotate(
        toolCalls.map(
          ({ request }, i) =>
            () =>
              s.hm.toolCall(request, toolResults[i]),
        ),
      ),
    },
    {
      id: `toolcall-new-${s.label}`,
      label: `toolCall, new requests (${s.label})`,
      session: inSession,
      run: (() => {
        let n = 0;
        return () => {
          const i = n++;
          return s.hm.toolCall(
            newRequests[i % newRequests.length],
            toolResults[i % toolResults.length],
          );
        };
      })(),
    },
    {
      id: `llmcall-${s.label}`,
      label: `llmCall (${s.label})`,
      session: inSession,
      run: () => s.hm.llmCall(llmRequest, llmResult),
    },
  );
}
if (tl.traceloop && !BUILD) {
  const tool = tl.traceloop.withTool;
  variants.push({
    id: 'traceloop',
    label: `Traceloop withTool (${tl.version})`,
    run: rotate(
      toolCalls.map(
        ({ request }, i) =>
          () =>
            tool({ name: request.name }, toolResults[i], request.args),
      ),
    ),
  });
}

// Each variant in a long-lived session (history fills to its bound, as in a real session).
const measure = (v, calls) =>
  v.session ? v.session(() => time(v.run, calls))() : time(v.run, calls);
for (const v of variants) await measure(v, 5000); // warm-up
const samples = new Map(variants.map((v) => [v.id, []]));
for (let r = 0; r < ROUNDS; r++)
  for (const v of variants) samples.get(v.id).push(await measure(v, CALLS));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const us = Object.fromEntries([...samples].map(([id, xs]) => [id, Math.min(...xs)]));
const med = Object.fromEntries([...samples].map(([id, xs]) => [id, median(xs)]));
for (const s of subjects) await s.provider.shutdown();

if (BUILD) {
  console.log(
    `SDK_BEFORE ${JSON.stringify({ us, med, facts: facts(subjects[0]), load: os.loadavg()[0], traceloop: !!tl.traceloop })}`,
  );
  process.exit(0);
}

console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model}; node ${process.version}`);
console.log(
  `${CALLS.toLocaleString('en-US')} awaited calls per variant × ${ROUNDS} rounds (fastest round; median in brackets); ` +
    `tools: Read (${RESULT_LINES} lines, ${Buffer.byteLength(readResult)} bytes), Grep, Bash, Edit in turn over ${FILES.length} files; llm: an Anthropic message with usage`,
);
if (before) {
  // its figures, each beside the bare span measured in its own process
  for (const id of ['bare-tool', 'bare-llm']) us[`${id} (before process)`] = before.us[id];
  for (const id of ['toolcall-before', 'toolcall-new-before', 'llmcall-before']) {
    us[id] = before.us[id];
    med[id] = before.med[id];
  }
  variants.push(
    { id: 'toolcall-before', label: 'toolCall (before, own process)' },
    { id: 'toolcall-new-before', label: 'toolCall, new requests (before)' },
    { id: 'llmcall-before', label: 'llmCall (before, own process)' },
  );
}
for (const v of variants) {
  const own = v.id.endsWith('-before') ? ' (before process)' : '';
  const base = v.id.startsWith('llm') ? us[`bare-llm${own}`] : us[`bare-tool${own}`];
  console.log(
    `${v.label.padEnd(36)} ${us[v.id].toFixed(2).padStart(8)} CPU µs/call [${med[v.id].toFixed(2)}]  ${(us[v.id] / base).toFixed(2)}× bare`,
  );
}
if (before) {
  console.log(
    `before process: bare span ${before.us['bare-tool'].toFixed(2)} / ${before.us['bare-llm'].toFixed(2)} µs (tool / LLM attributes), Traceloop ${before.traceloop ? 'loaded (not measured)' : 'not loaded'}, load ${before.load.toFixed(2)}`,
  );
  console.log(
    `spans of this build and the before build: ${facts(subjects[0]) === before.facts ? 'identical' : 'DIFFERENT'} (${subjects[0].tools.length + 1} spans: names, kinds, attributes, status)`,
  );
}
const load = Number(os.loadavg()[0].toFixed(2));
const tlNote =
  us.traceloop === undefined ? 'Traceloop not measured' : `Traceloop ${us.traceloop.toFixed(2)} µs`;
for (const [id, key, baseKey, what] of [
  [
    'sdk-toolcall',
    'toolcall-this build',
    'bare-tool',
    `toolCall in a session, ${toolCalls.length} requests in rotation (remembered after their first call)`,
  ],
  [
    'sdk-toolcall-new',
    'toolcall-new-this build',
    'bare-tool',
    'toolCall in a session, every request new (nothing remembered applies)',
  ],
  ['sdk-llmcall', 'llmcall-this build', 'bare-llm', 'llmCall in a session'],
]) {
  const value = Number(us[key].toFixed(2));
  const baseline = Number(us[baseKey].toFixed(2));
  const beatsTraceloop = us.traceloop === undefined || us[key] < us.traceloop;
  console.log(
    `BENCH_RESULT ${JSON.stringify({
      id,
      label: `${what}, µs/call (${tlNote})`,
      value,
      unit: 'µs/call',
      baseline,
      baselineLabel: 'bare OpenTelemetry span with the same attributes, same process',
      aim: '<= 1.5× baseline and < Traceloop withTool',
      met: us[key] <= 1.5 * us[baseKey] && beatsTraceloop,
      load,
    })}`,
  );
}
