import type { FileChange, Hunk } from './line-tracker.js';

/**
 * Pure, line-fed parser of `git log -p -U0 --format=%x1e%H` output: each commit's files with their
 * hunk headers. Content lines are skipped by the hunk counts (they are never kept), so memory is one
 * commit's hunk headers.
 */
export interface ParsedCommit {
  sha: string;
  changes: FileChange[];
}

export interface DiffParser {
  line(text: string): void;
  /** Flushes the last commit. */
  end(): void;
}

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/** A path as git prints it in `---`/`+++`/`rename` lines: C-quoted when unusual, `a/`/`b/` prefixed. */
export function diffPath(raw: string, prefix: 'a/' | 'b/' | ''): string | null {
  let p = raw.replace(/\t$/, '');
  if (p === '/dev/null') return null;
  if (p.startsWith('"') && p.endsWith('"')) {
    try {
      p = JSON.parse(p) as string; // git's C quoting matches JSON for \" \\ \t \n
    } catch {
      p = p.slice(1, -1);
    }
  }
  return prefix !== '' && p.startsWith(prefix) ? p.slice(prefix.length) : p;
}

export function createDiffParser(onCommit: (c: ParsedCommit) => void): DiffParser {
  let commit: ParsedCommit | undefined;
  let file: FileChange | undefined;
  let oldLeft = 0;
  let newLeft = 0;
  const flush = (): void => {
    if (commit !== undefined) onCommit(commit);
    commit = undefined;
    file = undefined;
  };
  return {
    line(text) {
      if (oldLeft > 0 || newLeft > 0) {
        // inside a hunk: '-' old, '+' new, '\' "No newline at end of file"
        if (text.startsWith('-')) oldLeft -= 1;
        else if (text.startsWith('+')) newLeft -= 1;
        return;
      }
      if (text.startsWith('\x1e')) {
        flush();
        commit = { sha: text.slice(1).trim(), changes: [] };
        return;
      }
      if (commit === undefined) return;
      if (text.startsWith('diff --git ')) {
        file = { oldPath: null, newPath: null, hunks: [] };
        commit.changes.push(file);
        return;
      }
      if (file === undefined) return;
      if (text.startsWith('rename from ')) file.oldPath = diffPath(text.slice(12), '');
      else if (text.startsWith('rename to ')) file.newPath = diffPath(text.slice(10), '');
      else if (text.startsWith('--- ')) file.oldPath = diffPath(text.slice(4), 'a/');
      else if (text.startsWith('+++ ')) file.newPath = diffPath(text.slice(4), 'b/');
      else if (text.startsWith('@@ ')) {
        const m = HUNK.exec(text);
        if (!m) return;
        const h: Hunk = {
          oldStart: Number(m[1]),
          oldCount: m[2] === undefined ? 1 : Number(m[2]),
          newStart: Number(m[3]),
          newCount: m[4] === undefined ? 1 : Number(m[4]),
        };
        file.hunks.push(h);
        oldLeft = h.oldCount;
        newLeft = h.newCount;
      }
    },
    end() {
      flush();
    },
  };
}
