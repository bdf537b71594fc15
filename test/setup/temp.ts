/**
 * Vitest global setup: one temp folder for the whole run. TMPDIR points into it before any test
 * file's fork starts (forks inherit the environment), so every chDB folder, server data folder and
 * scratch file the tests make with `os.tmpdir()` lands there, and the teardown removes it all: before
 * this, each run left its chDB folders behind (30–75 MB per test file).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  const dir = mkdtempSync(join(tmpdir(), 'hm-test-run-'));
  process.env.TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(dir, { recursive: true, force: true });
  };
}
