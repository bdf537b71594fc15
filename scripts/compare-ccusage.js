#!/usr/bin/env node
// Side by side: `ccusage daily --json` and `harness-meter report cost --by day` on the same Claude
// Code transcripts. ccusage is installed from npm into a temporary folder (never a dependency of
// this project); harness-meter imports the folder into a temporary data folder (built CLI).
//
//   node scripts/compare-ccusage.js [CLAUDE_CONFIG_DIR]     (default: the test fixtures)
//   CCUSAGE_VERSION=20.0.24 to pin another ccusage release.
//
// Both sides are read in UTC (ccusage: TZ=UTC; harness-meter days are UTC). ccusage prices with its
// own table (--offline: the one bundled in the release); harness-meter with its price book.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(fileURLToPath(new URL('..', import.meta.url)));
const configDir = resolve(process.argv[2] ?? join(repo, 'test/fixtures/transcripts/claude'));
const version = process.env.CCUSAGE_VERSION ?? '20.0.24';
const tmp = mkdtempSync(join(tmpdir(), 'hm-ccusage-'));
const run = (cmd, args, env = {}) =>
  execFileSync(cmd, args, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 256 * 1024 * 1024,
  });
try {
  run('npm', ['install', '--prefix', tmp, '--no-audit', '--no-fund', `ccusage@${version}`]);
  const cc = JSON.parse(
    run(join(tmp, 'node_modules/.bin/ccusage'), ['daily', '--json', '--offline'], {
      CLAUDE_CONFIG_DIR: configDir,
      TZ: 'UTC',
    }),
  );
  const env = {
    HM_DATA_DIR: join(tmp, 'data'),
    HM_IMPORT_STATE_FILE: join(tmp, 'state.json'),
    HM_API_URL: 'http://127.0.0.1:9', // no server: the CLI uses the temporary folder
    HM_LOG_LEVEL: 'warn',
    HM_KAFKA_BROKERS: '',
  };
  const cli = join(repo, 'pipeline/dist/cli.js');
  const imported = run(
    process.execPath,
    [cli, 'import', 'claude-code', join(configDir, 'projects'), '--settle', '0'],
    env,
  );
  const days = cc.daily.map((d) => d.period ?? d.date).sort();
  const until = new Date(Date.parse(days.at(-1)) + 86_400_000).toISOString().slice(0, 10);
  const hm = JSON.parse(
    run(
      process.execPath,
      [
        cli,
        'report',
        'cost',
        '--by',
        'day',
        '--since',
        days[0],
        '--until',
        until,
        '--format',
        'json',
      ],
      env,
    ),
  );
  const byDay = new Map(hm.map((r) => [r.key, r]));
  const rows = [];
  for (const d of cc.daily) {
    const day = d.period ?? d.date;
    const h = byDay.get(day) ?? {};
    const fresh = (h.input_tokens ?? 0) - (h.cache_read_tokens ?? 0) - (h.cache_write_tokens ?? 0);
    rows.push({
      day,
      'input cc|hm': `${d.inputTokens}|${fresh}`,
      'output cc|hm': `${d.outputTokens}|${h.output_tokens ?? 0}`,
      'cache read cc|hm': `${d.cacheReadTokens}|${h.cache_read_tokens ?? 0}`,
      'cache write cc|hm': `${d.cacheCreationTokens}|${h.cache_write_tokens ?? 0}`,
      'cost $ cc|hm': `${d.totalCost.toFixed(6)}|${Number(h.cost_usd ?? 0).toFixed(6)}`,
      'cost diff %':
        d.totalCost === 0
          ? ''
          : (((Number(h.cost_usd ?? 0) - d.totalCost) / d.totalCost) * 100).toFixed(2),
    });
  }
  console.log(
    `ccusage ${version} daily --json vs harness-meter report cost --by day, on ${configDir}`,
  );
  process.stdout.write(imported);
  console.table(rows);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
