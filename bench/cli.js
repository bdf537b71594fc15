// Benchmark: CLI start and a report through a running server. `harness-meter --help` wall time
// (median of HM_BENCH_CLI_RUNS, default 10) beside `node -e 0` in the same run; then a server is
// started on a folder holding HM_BENCH_CLI_SPANS spans (default 2,600,000, generated inside chDB by
// bench/lib/store-load.js) and `harness-meter report cost-per-pr --json` (HM_API_URL set) is timed
// beside the same request with curl and with fetch in a fresh node process (median of HM_BENCH_CLI_ROUNDS, default 5, each,
// interleaved round by round, after one warm-up); HM_BENCH_CLI_BEFORE names another build's CLI to
// time in the same rounds, for a before/after.
// Run: HM_BENCH=cli npm run bench (small: HM_BENCH_CLI_SPANS=100000).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { migrateUp, openStore } from '../queries/dist/index.js';
import { benchResult, CLI, loadSpans, median, startServer } from './lib/store-load.js';

const RUNS = Number(process.env.HM_BENCH_CLI_RUNS ?? 10);
// Rounds of the report clients (each runs once per round); more rounds steady a loaded machine's medians.
const ROUNDS = Number(process.env.HM_BENCH_CLI_ROUNDS ?? 5);
const SPANS = Number(process.env.HM_BENCH_CLI_SPANS ?? 2_600_000);
const REPORT = 'cost-per-pr';

// GNU time, when there, also gives each client's CPU time (user + system): on a machine loaded by
// other work, wall times of a few hundred ms swing more than the difference being measured.
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const cpuFile = join(os.tmpdir(), `hm-bench-cli-cpu-${process.pid}.txt`);
let lastCpuMs = Number.NaN;

function wallMs(cmd, args, env = process.env) {
  const t = performance.now();
  // stdout to /dev/null, as curl's -o /dev/null: a report's JSON can pass spawnSync's 1 MB buffer
  const [c, a] = GNU_TIME ? [GNU_TIME, ['-f', '%U %S', '-o', cpuFile, cmd, ...args]] : [cmd, args];
  const r = spawnSync(c, a, { env, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  lastCpuMs = Number.NaN;
  if (GNU_TIME) {
    const [user, sys] = readFileSync(cpuFile, 'utf8').trim().split(/\s+/).map(Number);
    lastCpuMs = ((user ?? Number.NaN) + (sys ?? Number.NaN)) * 1000;
  }
  return ms;
}
const timeRuns = (n, fn) => median(Array.from({ length: n }, fn));

// 1. --help beside a bare node start.
wallMs(process.execPath, [CLI, '--help']); // warm the file cache
const help = timeRuns(RUNS, () => wallMs(process.execPath, [CLI, '--help']));
const bare = timeRuns(RUNS, () => wallMs(process.execPath, ['-e', '0']));
console.log(
  `harness-meter --help: ${help.toFixed(0)} ms; node -e 0: ${bare.toFixed(0)} ms (median of ${RUNS})`,
);

// 2. A report through a running server beside curl.
const dataDir = mkdtempSync(join(os.tmpdir(), 'hm-bench-cli-'));
const client = await openStore({ kind: 'chdb', dataDir });
try {
  await migrateUp(client, 'harness_meter');
  await loadSpans(client, 'harness_meter', { count: SPANS, hours: 24 * 20 });
} finally {
  await client.close();
}
const server = await startServer(dataDir, { HM_ALERTS: 'off' });
const url = `${server.url}/api/v1/reports/${REPORT}?since=30d`;
const env = { ...process.env, HM_API_URL: server.url, HM_LOG_LEVEL: 'warn', HM_KAFKA_BROKERS: '' };
const cliArgs = [CLI, 'report', REPORT, '--json', '-s', '30d'];
// HM_BENCH_CLI_BEFORE=/path/to/other/pipeline/dist/cli.js: that build too, on the same server.
const BEFORE = process.env.HM_BENCH_CLI_BEFORE;
let hasCurl = true;
try {
  execFileSync('curl', ['--version'], { stdio: 'ignore' });
} catch {
  hasCurl = false;
}
// Each client runs once per round, in turn, so all of them meet the server in the same state
// (after a bulk load it is still merging parts: timing one client after the other favoured the last).
const clients = {
  cli: () => wallMs(process.execPath, cliArgs, env),
  fetch: () =>
    wallMs(process.execPath, ['-e', `fetch(${JSON.stringify(url)}).then((r) => r.text())`]),
  ...(BEFORE ? { before: () => wallMs(process.execPath, [BEFORE, ...cliArgs.slice(1)], env) } : {}),
  ...(hasCurl ? { curl: () => wallMs('curl', ['-sf', '-o', '/dev/null', url]) } : {}),
};
const times = Object.fromEntries(Object.keys(clients).map((k) => [k, []]));
const cpu = Object.fromEntries(Object.keys(clients).map((k) => [k, []]));
try {
  for (const run of Object.values(clients)) run(); // warm-up: the server's first report
  for (let round = 0; round < ROUNDS; round++)
    for (const [name, run] of Object.entries(clients)) {
      times[name].push(run());
      cpu[name].push(lastCpuMs);
    }
} finally {
  server.child.kill('SIGTERM');
  await new Promise((r) => server.child.once('exit', r));
}
const cliMs = median(times.cli);
const fetchMs = median(times.fetch);
const curl = hasCurl ? median(times.curl) : undefined;
const beforeMs = BEFORE ? median(times.before) : undefined;
const baseline = curl ?? fetchMs;
const baselineLabel =
  curl !== undefined ? 'the same request with curl' : 'fetch in a fresh node process';
console.log(
  `report ${REPORT} at ${SPANS.toLocaleString()} stored: CLI ${cliMs.toFixed(0)} ms; curl ${curl === undefined ? 'n/a' : `${curl.toFixed(0)} ms`}; ` +
    `fetch in a fresh node ${fetchMs.toFixed(0)} ms (median of ${ROUNDS}, interleaved)`,
);

if (beforeMs !== undefined)
  console.log(`the same report with ${BEFORE}: ${beforeMs.toFixed(0)} ms (median of ${ROUNDS})`);
if (GNU_TIME)
  console.log(
    `CPU time (user + system, median): ${Object.entries(cpu)
      .map(([k, v]) => `${k} ${median(v).toFixed(0)} ms`)
      .join('; ')}`,
  );

benchResult({
  id: 'cli-help-ms',
  label: 'harness-meter --help wall time (median)',
  value: Math.round(help),
  unit: 'ms',
  baseline: Math.round(bare),
  baselineLabel: 'node -e 0',
  aim: '<= 300',
  met: help <= 300,
});
if (GNU_TIME && BEFORE)
  benchResult({
    id: 'cli-report-cpu-ms',
    label: `report ${REPORT} through a running server: CPU time of the CLI process (user + system, median)`,
    value: Math.round(median(cpu.cli)),
    unit: 'ms',
    baseline: Math.round(median(cpu.before)),
    baselineLabel: `the same report with ${BEFORE}`,
    aim: 'below the baseline',
    met: median(cpu.cli) < median(cpu.before),
  });
benchResult({
  id: 'cli-report-ratio',
  label: `report ${REPORT} through a running server at ${SPANS.toLocaleString()} stored spans: CLI ${cliMs.toFixed(0)} ms / ${baselineLabel} ${baseline.toFixed(0)} ms`,
  value: Number((cliMs / baseline).toFixed(2)),
  unit: 'x',
  baseline: Math.round(baseline),
  baselineUnit: 'ms',
  baselineLabel,
  aim: '<= 2',
  met: cliMs / baseline <= 2,
});
