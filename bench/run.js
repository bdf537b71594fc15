// Runs every benchmark in bench/. Each prints its conditions, a same-run baseline and the ratio.
// HM_BENCH=<name> runs one (see bench/README.md).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SERVER_NODE_FLAGS } from './lib/server-flags.js';

const which = process.env.HM_BENCH;
// [name, script, runs with the server's Node flags]: server code is timed as `npm start` runs it.
const BENCHES = [
  ['redundancy', './redundancy.js', false],
  ['kafka', './kafka-enrich.js', true],
  ['linkage', './linkage.js', true],
  ['git', './git-walk.js', false],
  ['transcripts', './transcripts.js', false],
  ['dashboard', './dashboard.js', true],
  ['sdk', './sdk.js', false],
  ['cli', './cli.js', false],
  ['shutdown', './shutdown.js', true],
  ['decode', './decode.js', true],
  ['reports', './reports.js', true],
  ['cost-per-pr', './cost-per-pr.js', true],
  ['ingest', './ingest.js', true],
  ['ingest-formats', './ingest-formats.js', true],
  ['ingest-ceiling', './ingest-ceiling.js', true],
];
if (which && !BENCHES.some(([name]) => name === which)) {
  console.error(`HM_BENCH=${which} names no bench; one of: ${BENCHES.map(([n]) => n).join(', ')}`);
  process.exit(2);
}
for (const [name, script, server] of BENCHES) {
  if (which && which !== name) continue;
  const file = fileURLToPath(new URL(script, import.meta.url));
  const r = spawnSync(process.execPath, [...(server ? SERVER_NODE_FLAGS : []), file], {
    stdio: 'inherit',
  });
  if (r.status !== 0) process.exitCode = r.status ?? 1;
}
