import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const script = new URL('../../scripts/gen-bench-table.js', import.meta.url).pathname;
const START = '<!-- bench-table:start (npm run gen:bench-table) -->';
const END = '<!-- bench-table:end -->';

const folders: string[] = [];
afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

function folderWith(readme: string, log: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'hm-bench-table-'));
  folders.push(dir);
  writeFileSync(join(dir, 'README.md'), readme);
  writeFileSync(join(dir, 'bench.log'), log);
  return dir;
}

describe('scripts/gen-bench-table.js', () => {
  it('rewrites only the marked block, one row per figure id, the last result of an id winning', () => {
    const readme = `# T\n\nbefore\n\n${START}\n\nold table\n\n${END}\n\nafter\n`;
    const log = [
      'noise',
      'BENCH_RESULT {"id":"decode-price","label":"decode + price","value":1000,"unit":"spans/s","baseline":9000,"baselineLabel":"toObject","aim":">= 150000","met":false,"load":1.5}',
      'BENCH_RESULT {"id":"cli-ratio","label":"ratio","value":2.5,"unit":"x","baseline":214,"baselineUnit":"ms","baselineLabel":"curl","aim":"<= 2","met":false,"load":1}',
      'BENCH_RESULT {"id":"sdk-toolcall","label":"toolCall","value":9.25,"unit":"µs","baseline":8.5,"baselineLabel":"bare span","aim":"<= 1.5x","met":true,"load":0.4}',
      'BENCH_RESULT {"id":"decode-price","label":"decode + price","value":160000,"unit":"spans/s","baseline":25000,"baselineLabel":"toObject","aim":">= 150000","met":true,"load":0.3}',
    ].join('\n');
    const dir = folderWith(readme, log);
    execFileSync('node', [script, 'bench.log'], { cwd: dir });
    const out = readFileSync(join(dir, 'README.md'), 'utf8');
    expect(out.startsWith('# T\n\nbefore\n\n')).toBe(true);
    expect(out.endsWith(`${END}\n\nafter\n`)).toBe(true);
    expect(out).not.toContain('old table');
    expect(out).toContain(
      '| decode + price (`decode-price`) | 160,000 spans/s | 25,000 spans/s (toObject) | >= 150000 | yes | 0.3 |',
    );
    expect(out).toContain(
      '| toolCall (`sdk-toolcall`) | 9.25 µs | 8.5 µs (bare span) | <= 1.5x | yes | 0.4 |',
    );
    expect(out).not.toContain('| 1,000 spans/s');
    expect(out).toContain('| ratio (`cli-ratio`) | 2.5 x | 214 ms (curl) | <= 2 | no | 1 |');
  });

  it('refuses a README without the markers and output without results, changing nothing', () => {
    const dir = folderWith('# no markers\n', 'BENCH_RESULT {"id":"x","value":1}\n');
    const run = spawnSync('node', [script, 'bench.log'], { cwd: dir, encoding: 'utf8' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('bench-table');
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toBe('# no markers\n');

    const empty = folderWith(`${START}\n${END}\n`, 'nothing here\n');
    const none = spawnSync('node', [script, 'bench.log'], { cwd: empty, encoding: 'utf8' });
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('no BENCH_RESULT lines');
  });
});
