// Shared by bench/cli.js and bench/shutdown.js: spans generated inside chDB (INSERT … SELECT FROM
// numbers(), never through HTTP), a server process started on that folder, and the BENCH_RESULT line.
// Sessions of 200 spans (2/3 LLM calls, 4 models, 300 developers, 20 teams, 10 repositories) spread
// over the last `hours` hours, so alert windows (the hour, the day) hold data; the rollups fill through
// their materialized views as in production. Sessions are marked scanned, so reports do not wait for
// detection to catch up (that is the bulk-load figure of another bench).
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { toClickHouseTime } from '../../queries/dist/index.js';
import { SERVER_NODE_FLAGS } from './server-flags.js';

/** The CLI under test; HM_BENCH_CLI points at another build (e.g. main's) for a before/after run. */
export const CLI =
  process.env.HM_BENCH_CLI || fileURLToPath(new URL('../../pipeline/dist/cli.js', import.meta.url));
const PER_SESSION = 200;
const CHUNK = 1_000_000;

/** Appends spans [from, from + count) of a `total`-span history to `db`.spans (and their sessions' scans). */
export async function loadSpans(
  client,
  db,
  { from = 0, count, total = from + count, hours = 48, end = Date.now() },
) {
  const start = end - hours * 3_600_000;
  for (let at = from; at < from + count; at += CHUNK) {
    const n = Math.min(CHUNK, from + count - at);
    await client.command({
      query: `INSERT INTO {db:Identifier}.spans
        (Timestamp, EndTimestamp, TraceId, SpanId, SpanName, span_type, operation, provider, request_model,
         response_model, model, session_id, developer, team, repo, branch, pr, intent, source,
         input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_nanos, price_id, unpriced,
         tool_name, result_tokens, Duration)
        SELECT
          toDateTime64({start:DateTime64(3, 'UTC')}, 9, 'UTC')
            + toIntervalMillisecond(intDiv(n * {span_us:UInt64}, 1000)) AS ts,
          ts + toIntervalMillisecond(1500), lower(hex(toUInt128(s))), lower(hex(n)),
          if(k % 3 = 0, 'execute_tool Read', 'chat model'), if(k % 3 = 0, 'tool', 'llm'),
          if(k % 3 = 0, 'execute_tool', 'chat'), 'anthropic', m, m, if(k % 3 = 0, '', m),
          concat('sess-', toString(s)), concat('dev', toString(s % 300)), concat('team', toString(s % 20)),
          concat('https://github.com/acme/repo', toString(s % 10)), 'feat/x', toUInt32(s % 5000 + 1), 'implement', 'sdk',
          if(k % 3 = 0, 0, 20000), if(k % 3 = 0, 0, 300), if(k % 3 = 0, 0, 15000), if(k % 3 = 0, 0, 2000),
          if(k % 3 = 0, NULL, toInt64(10000 + n % 1000)), if(k % 3 = 0, '', 'bench'), 0,
          if(k % 3 = 0, 'Read', ''), if(k % 3 = 0, 800, 0), 1500000000
        FROM (SELECT number AS n, intDiv(number, ${PER_SESSION}) AS s, number % ${PER_SESSION} AS k,
                     ['claude-sonnet-4-5', 'claude-haiku-4-5', 'gpt-4o', 'gpt-4o-mini'][intDiv(number, ${PER_SESSION}) % 4 + 1] AS m
              FROM numbers({from:UInt64}, {count:UInt64}))`,
      query_params: {
        db,
        start: toClickHouseTime(new Date(start)),
        // the `total` spans are spread evenly over the window (µs apart, so millions fit in hours)
        span_us: Math.max(1, Math.floor((hours * 3_600_000 * 1000) / total)),
        from: at,
        count: n,
      },
    });
  }
  const first = Math.floor(from / PER_SESSION);
  const last = Math.ceil((from + count) / PER_SESSION);
  await client.command({
    query: `INSERT INTO {db:Identifier}.session_scans (session_id, scan_id, last_ingested_at, spans, findings)
            SELECT concat('sess-', toString(number)), 1, now64(3) + toIntervalDay(1), ${PER_SESSION}, 0
            FROM numbers({first:UInt64}, {n:UInt64})`,
    query_params: { db, first, n: last - first },
  });
}

export async function freePort() {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** `harness-meter start` on `dataDir`; resolves once /healthz answers (with the start-up time). */
export async function startServer(dataDir, env = {}) {
  const port = await freePort();
  const t = performance.now();
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, CLI, 'start'], {
    env: {
      ...process.env,
      HM_LOG_LEVEL: 'warn',
      HM_KAFKA_BROKERS: '',
      HM_PORT: String(port),
      HM_DATA_DIR: dataDir,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d.toString()));
  child.stderr.on('data', (d) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}): ${output}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, url, startMs: performance.now() - t, output: () => output };
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
};

/** The issue-17 result line (bench/README.md). */
export function benchResult(r) {
  console.log(`BENCH_RESULT ${JSON.stringify({ ...r, load: Number(os.loadavg()[0].toFixed(2)) })}`);
}
