/**
 * Pure core of the line walk: follows the lines each default-branch commit added through the
 * diffs of the commits after it, and counts, per group of lines (one merge, one origin commit),
 * how many were rewritten or removed within 14 and 30 days. No I/O: the shell feeds it parsed
 * `git log -p -U0` diffs in first-parent order.
 *
 * Memory is bounded by the lines still inside their 30-day window: a file is a list of runs
 * (count, group) with an implicit untracked tail, so untracked stretches cost nothing, files with
 * no tracked line are dropped, and lines whose window closed are released by `compact()`.
 */

/** The windows after a merge, in days (churn: 14, survival: 30). */
export const LINE_WINDOWS_DAYS = { churn: 14, survival: 30 } as const;
const DAY_MS = 86_400_000;

/** Lines one default-branch commit brought, written by one origin commit, and their fate so far. */
export interface LineGroup {
  merge_sha: string;
  pr: number;
  merged_at_ms: number;
  origin_sha: string;
  origin_session: string;
  origin_author: string;
  lines_added: number;
  rewritten_14d: number;
  removed_14d: number;
  rewritten_30d: number;
  removed_30d: number;
}

/** One hunk of a `-U0` diff: `@@ -oldStart,oldCount +newStart,newCount @@`. */
export interface Hunk {
  oldStart: number;
  oldCount: number;
  newStart: number;
  newCount: number;
}

/** One file of a commit's diff against its first parent; a path is null for /dev/null. */
export interface FileChange {
  oldPath: string | null;
  newPath: string | null;
  hunks: Hunk[];
}

/** A run of consecutive lines of a file; group undefined = not tracked. */
type Run = { n: number; g: LineGroup | undefined };

export interface LineTracker {
  /**
   * Applies one commit's diff at time `atMs`; `groupOf(path, newLine)` names the group of each line
   * it adds (undefined: not tracked). Returns the number of lines added.
   */
  apply(
    atMs: number,
    changes: readonly FileChange[],
    groupOf: (path: string, newLine: number) => LineGroup | undefined,
  ): number;
  /** Forgets lines whose 30-day window closed before `nowMs` (their counts are final). */
  compact(nowMs: number): void;
  /** Lines currently followed (for tests and the memory bound). */
  trackedLines(): number;
}

function push(out: Run[], n: number, g: LineGroup | undefined): void {
  if (n <= 0) return;
  const last = out.at(-1);
  if (last !== undefined && last.g === g) last.n += n;
  else out.push({ n, g });
}

function closed(g: LineGroup | undefined, nowMs: number): boolean {
  return g === undefined || nowMs - g.merged_at_ms > LINE_WINDOWS_DAYS.survival * DAY_MS;
}

function countFate(g: LineGroup, n: number, atMs: number, rewritten: boolean): void {
  const age = atMs - g.merged_at_ms;
  if (age <= LINE_WINDOWS_DAYS.churn * DAY_MS) {
    if (rewritten) g.rewritten_14d += n;
    else g.removed_14d += n;
  }
  if (age <= LINE_WINDOWS_DAYS.survival * DAY_MS) {
    if (rewritten) g.rewritten_30d += n;
    else g.removed_30d += n;
  }
}

/**
 * Applies hunks (sorted, as git prints them) to a file's runs; returns the new runs.
 * With `-U0`, a hunk that deletes nothing inserts after old line `oldStart`.
 */
export function applyHunks(
  runs: readonly Run[],
  hunks: readonly Hunk[],
  onDelete: (g: LineGroup, n: number, rewritten: boolean) => void,
  tagOf: (newLine: number) => LineGroup | undefined,
): Run[] {
  const out: Run[] = [];
  let ri = 0;
  let used = 0; // lines of runs[ri] already consumed
  let oldPos = 1; // next old line to consume
  const take = (count: number, keep: boolean, rewritten: boolean): void => {
    let left = count;
    while (left > 0) {
      const r = runs[ri];
      if (r === undefined) {
        if (keep) push(out, left, undefined); // the untracked tail
        return;
      }
      const k = Math.min(left, r.n - used);
      if (keep) push(out, k, r.g);
      else if (r.g !== undefined) onDelete(r.g, k, rewritten);
      used += k;
      left -= k;
      if (used === r.n) {
        ri += 1;
        used = 0;
      }
    }
  };
  for (const h of hunks) {
    const copyUntil = h.oldCount === 0 ? h.oldStart + 1 : h.oldStart;
    take(copyUntil - oldPos, true, false);
    oldPos = Math.max(oldPos, copyUntil);
    take(h.oldCount, false, h.newCount > 0);
    oldPos += h.oldCount;
    for (let i = 0; i < h.newCount; i += 1) push(out, 1, tagOf(h.newStart + i));
  }
  const r = runs[ri];
  if (r !== undefined) {
    push(out, r.n - used, r.g);
    for (let i = ri + 1; i < runs.length; i += 1) push(out, runs[i]!.n, runs[i]!.g);
  }
  while (out.length > 0 && out.at(-1)?.g === undefined) out.pop();
  return out;
}

/** A tracker of added lines; see the module comment. */
export function createLineTracker(): LineTracker {
  const files = new Map<string, Run[]>();
  return {
    apply(atMs, changes, groupOf) {
      let added = 0;
      // Renames first, from the pre-commit names, so a file renamed onto another's old name works.
      const before = new Map<string, Run[]>();
      for (const c of changes)
        if (c.oldPath !== null) {
          const runs = files.get(c.oldPath);
          if (runs !== undefined) before.set(c.oldPath, runs);
        }
      for (const c of changes) if (c.oldPath !== null) files.delete(c.oldPath);
      for (const c of changes) {
        const runs = c.oldPath === null ? [] : (before.get(c.oldPath) ?? []);
        const path = c.newPath;
        const next = applyHunks(
          runs,
          c.hunks,
          (g, n, rewritten) => countFate(g, n, atMs, rewritten),
          (line) => {
            added += 1;
            if (path === null) return undefined;
            const g = groupOf(path, line);
            if (g !== undefined) g.lines_added += 1;
            return g;
          },
        );
        if (path !== null && next.length > 0) files.set(path, next);
      }
      return added;
    },
    compact(nowMs) {
      for (const [path, runs] of files) {
        const out: Run[] = [];
        for (const r of runs) push(out, r.n, closed(r.g, nowMs) ? undefined : r.g);
        while (out.length > 0 && out.at(-1)?.g === undefined) out.pop();
        if (out.length === 0) files.delete(path);
        else files.set(path, out);
      }
    },
    trackedLines() {
      let n = 0;
      for (const runs of files.values()) for (const r of runs) if (r.g !== undefined) n += r.n;
      return n;
    },
  };
}
