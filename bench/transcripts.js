// Benchmark: `import claude-code` over a generated transcript folder (HM_BENCH_TRANSCRIPT_MB, default
// 1024 MB, under the OS temp folder, removed afterwards). Figure: lines/s of the importer's core
// (read, parse, dedup, map to spans with hashed tool arguments), spans handed to a no-op sender.
// Baseline in the same run: the same reader with a bare JSON.parse of each line. Memory: peak RSS.
// Storing is not in this figure (the sink's own throughput is the Kafka/sink benchmark's subject).
import { mkdtempSync, rmSync, mkdirSync, openSync, writeSync, closeSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { importTranscripts } from '../pipeline/dist/transcripts/import.js';

const MB = Number(process.env.HM_BENCH_TRANSCRIPT_MB ?? 1024);
const root = mkdtempSync(join(os.tmpdir(), 'hm-bench-transcripts-'));
const projects = join(root, 'projects');

// --- generate: sessions of prompt → (thinking line + tool_use line of one response) → tool result
let seed = 11;
const rand = (n) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
const filler = 'x'.repeat(600);
let bytes = 0;
let lines = 0;
let session = 0;
const t0 = Date.parse('2026-10-01T08:00:00.000Z');
while (bytes < MB * 1024 * 1024) {
  const dir = join(projects, `-home-dev-src-repo${session % 40}`);
  mkdirSync(dir, { recursive: true });
  const sid = `bench-${String(session).padStart(8, '0')}`;
  const fd = openSync(join(dir, `${sid}.jsonl`), 'w');
  const base = {
    isSidechain: false,
    userType: 'external',
    cwd: `/home/dev/src/repo${session % 40}`,
    sessionId: sid,
    version: '2.0.31',
    gitBranch: `feature/b${session % 7}`,
  };
  let out = '';
  let t = t0 + session * 60_000;
  for (let m = 0; m < 200; m++) {
    t += 1500;
    const ts = new Date(t).toISOString();
    const id = `msg_${sid}_${m}`;
    const usage = {
      input_tokens: 5 + rand(50),
      cache_creation_input_tokens: rand(3000),
      cache_read_input_tokens: 10000 + rand(50000),
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
      output_tokens: 20 + rand(800),
      service_tier: 'standard',
    };
    const msg = (content, u) => ({
      ...base,
      uuid: `${id}-${content[0].type}`,
      timestamp: ts,
      type: 'assistant',
      requestId: `req_${sid}_${m}`,
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5-20250929',
        content,
        usage: u,
      },
    });
    const tool = `toolu_${sid}_${m}`;
    const file = `src/module${rand(30)}.ts`;
    out +=
      JSON.stringify(
        msg([{ type: 'thinking', thinking: filler.slice(0, 200 + rand(400)), signature: 'sig' }], {
          ...usage,
          output_tokens: 3,
        }),
      ) + '\n';
    out +=
      JSON.stringify(
        msg(
          [
            {
              type: 'tool_use',
              id: tool,
              name: rand(3) === 0 ? 'Bash' : 'Read',
              input:
                rand(3) === 0
                  ? { command: `npm test -- ${file}` }
                  : { file_path: `/home/dev/src/${file}` },
            },
          ],
          usage,
        ),
      ) + '\n';
    out +=
      JSON.stringify({
        ...base,
        uuid: `${id}-r`,
        timestamp: ts,
        type: 'user',
        message: {
          role: 'user',
          content: [
            { tool_use_id: tool, type: 'tool_result', content: filler.slice(0, 100 + rand(500)) },
          ],
        },
      }) + '\n';
    lines += 3;
  }
  writeSync(fd, out);
  closeSync(fd);
  bytes += Buffer.byteLength(out);
  session++;
}

// --- measure
const noop = () => Promise.resolve();
const bare = {
  source: 'claude-code',
  stats: { lines: 0, llmCalls: 0, toolCalls: 0, duplicates: 0, noUsage: 0, malformed: 0 },
  beginFile() {},
  line(text) {
    this.stats.lines++;
    JSON.parse(text);
  },
  endFile: (end) => end,
  fileState: () => null,
  take: () => [],
  takeIssues: () => [],
};
const options = {
  source: 'claude-code',
  paths: [projects],
  stateFile: undefined,
  settleMs: 0,
  developer: 'dev@example.com',
  repoOf: () => undefined,
  send: noop,
};
const time = async (parser) => {
  const s = performance.now();
  const summary = await importTranscripts(options, parser);
  return { ms: performance.now() - s, summary };
};
const rss = () => Math.round(process.resourceUsage().maxRSS / 1024);
const base = await time(bare);
const baseRss = rss();
const real = await time(undefined);
const realRss = rss();
rmSync(root, { recursive: true, force: true });

const perSec = (n, ms) => Math.round(n / (ms / 1000)).toLocaleString('en-US');
console.log(
  `transcripts  machine: ${os.cpus().length} × ${os.cpus()[0]?.model}; node ${process.version}; load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(
  `data: ${session} Claude Code sessions, ${lines.toLocaleString('en-US')} lines, ${(bytes / 1024 / 1024).toFixed(0)} MB (each response over 2 lines + a tool result); one run each, after generation (page cache warm)`,
);
console.log(
  `baseline  same reader + bare JSON.parse: ${perSec(base.summary.stats.lines, base.ms)} lines/s (${(base.ms / 1000).toFixed(1)} s), peak RSS ${baseRss} MB`,
);
const st = real.summary.stats;
console.log(
  `import claude-code core: ${perSec(st.lines, real.ms)} lines/s (${(real.ms / 1000).toFixed(1)} s; ${st.llmCalls.toLocaleString('en-US')} LLM + ${st.toolCalls.toLocaleString('en-US')} tool spans), peak RSS ${realRss} MB`,
);
console.log(`ratio (import / baseline time): ${(real.ms / base.ms).toFixed(2)}x`);
