// Benchmark: redundancy rules over a large synthetic stream of sessions. Baseline in the same run:
// ordering the same calls (the least any per-session pass must do). Prints calls/s, findings/s, ratio.
import os from 'node:os';
import { findRedundancy, orderCalls } from '../instrumentation/dist/rules.js';
import { describeToolCall } from '../instrumentation/dist/tool-schemas.js';

const SESSIONS = Number(process.env.HM_BENCH_SESSIONS ?? 20_000);
const CALLS = 60;
let seed = 7;
const rand = (n) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
const classes = ['read', 'read', 'read', 'search', 'exec', 'write', 'fetch', 'other'];
const sessions = [];
for (let s = 0; s < SESSIONS; s++) {
  const calls = [];
  let t = 0n;
  for (let i = 0; i < CALLS; i++) {
    t += 1_000_000n;
    if (i % 3 === 0) calls.push({ spanId: `${s}-${i}`, at: t, type: 'llm', outputTokens: 100 });
    else {
      const cls = classes[rand(classes.length)];
      const target = `t${rand(12)}`;
      calls.push({
        spanId: `${s}-${i}`,
        at: t,
        type: 'tool',
        toolName: cls,
        toolClass: cls,
        argsHash: `${cls}:${target}`,
        targetHash: target,
        resultTokens: 500,
        isError: cls === 'exec' && rand(3) === 0,
        // the shell model's facts (issue 13): most runs change nothing, some touch one file
        ...(cls === 'exec'
          ? rand(2) === 0
            ? { mutates: 'none' }
            : { mutates: 'paths', touches: [`t${rand(12)}`] }
          : {}),
        ...(cls === 'read' && rand(4) === 0 ? { targetHashes: [`t${rand(12)}`] } : {}),
      });
    }
  }
  sessions.push(calls);
}
const total = SESSIONS * CALLS;
const time = (f) => {
  const t0 = performance.now();
  let n = 0;
  for (const s of sessions) n += f(s);
  return { ms: performance.now() - t0, n };
};
time((s) => findRedundancy(s).length); // warm-up
const base = time((s) => orderCalls(s).length);
const rules = time((s) => findRedundancy(s).length);
const before = process.memoryUsage().heapUsed;
const live = sessions.slice(0, 1000).map((s) => s.slice(0, 20).filter((c) => c.type === 'tool'));
const perSession = (process.memoryUsage().heapUsed - before) / live.length;
console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model}; node ${process.version}`);
console.log(`data: ${SESSIONS} sessions × ${CALLS} calls (1/3 LLM calls, tools over 12 targets)`);
console.log(
  `baseline  ordering the calls: ${Math.round(total / (base.ms / 1000)).toLocaleString('en-US')} calls/s`,
);
console.log(
  `rules: ${Math.round(total / (rules.ms / 1000)).toLocaleString('en-US')} calls/s, ${Math.round(rules.n / (rules.ms / 1000)).toLocaleString('en-US')} findings/s (${rules.n} findings)`,
);
console.log(`ratio (rules / baseline): ${(base.ms / rules.ms).toFixed(3)}`);
console.log(
  `pipeline memory per live session: 0 bytes (scans read the session back from ClickHouse); SDK history: ~${Math.round(perSession)} bytes per session of 13 tool calls (heap delta, approximate)`,
);
// The SDK side: describing a call (per-tool schema, shell model) before hashing it.
const SHAPES = [
  ['Bash', { command: "cd pkg && sed -n '10,80p' src/a.ts", description: 'Show' }],
  ['shell', { command: ['bash', '-lc', 'npm test 2>&1 | tail -30'], workdir: '/w' }],
  ['Read', { file_path: '/w/src/a.ts', offset: 10, limit: 50 }],
  ['run_terminal_cmd', { command: "rg -n 'foo' src && git status", explanation: 'x' }],
  ['Grep', { pattern: 'foo', path: 'src' }],
];
const N = 200_000;
const d0 = performance.now();
for (let i = 0; i < N; i++) {
  const [name, args] = SHAPES[i % SHAPES.length];
  describeToolCall(name, args, { cwd: '/w' });
}
console.log(
  `SDK describeToolCall (schemas + shell model, 5 call shapes): ${Math.round(N / ((performance.now() - d0) / 1000)).toLocaleString('en-US')} calls/s`,
);
