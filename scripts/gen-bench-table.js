// Regenerates the README's benchmark table from benchmark output.
// Every bench script prints one `BENCH_RESULT {json}` line per figure (see bench/README.md); this reads
// those lines from the files given (or stdin), keeps the last line per id, and rewrites the block between
// the bench-table markers in README.md. Usage: npm run bench 2>&1 | tee bench.log; node scripts/gen-bench-table.js bench.log
import { readFileSync, writeFileSync } from 'node:fs';

const START = '<!-- bench-table:start (npm run gen:bench-table) -->';
const END = '<!-- bench-table:end -->';

function readInputs(files) {
  if (files.length === 0) return [readFileSync(0, 'utf8')];
  return files.map((f) => readFileSync(f, 'utf8'));
}

export function parseResults(texts) {
  const byId = new Map();
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const at = line.indexOf('BENCH_RESULT ');
      if (at < 0) continue;
      let result;
      try {
        result = JSON.parse(line.slice(at + 'BENCH_RESULT '.length));
      } catch {
        throw new Error(`not a BENCH_RESULT JSON line: ${line.slice(0, 200)}`);
      }
      if (typeof result.id !== 'string') throw new Error(`BENCH_RESULT without an id: ${line}`);
      byId.set(result.id, result);
    }
  }
  return [...byId.values()];
}

function num(value) {
  if (value === null || value === undefined) return '—';
  if (typeof value !== 'number') return String(value);
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', { maximumFractionDigits: digits });
}

export function renderTable(results) {
  const rows = [
    '| figure | value | baseline (same run) | aim | met | load |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of results) {
    const baseline =
      r.baseline === null || r.baseline === undefined
        ? '—'
        : `${num(r.baseline)} ${r.baselineUnit ?? r.unit ?? ''} (${r.baselineLabel ?? ''})`;
    rows.push(
      `| ${r.label ?? r.id} (\`${r.id}\`) | ${num(r.value)} ${r.unit ?? ''} | ${baseline} | ${r.aim ?? '—'} | ${
        r.met === true ? 'yes' : r.met === false ? 'no' : '—'
      } | ${r.load === undefined ? '—' : num(r.load)} |`,
    );
  }
  return rows.join('\n');
}

export function replaceBlock(readme, table) {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start)
    throw new Error(
      `README.md has no ${START} … ${END} block; add the two markers where the table goes`,
    );
  return `${readme.slice(0, start + START.length)}\n\n${table}\n\n${readme.slice(end)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = parseResults(readInputs(process.argv.slice(2)));
  if (results.length === 0) {
    console.error('no BENCH_RESULT lines in the input: pass the output of npm run bench');
    process.exit(1);
  }
  const readme = readFileSync('README.md', 'utf8');
  writeFileSync('README.md', replaceBlock(readme, renderTable(results)));
  console.log(`README.md: benchmark table rewritten with ${results.length} figures`);
}
