// Shared by the SDK (to check a call before it runs) and the pipeline (to find waste in stored sessions).
/**
 * Redundancy rules over one session's ordered calls. Pure and deterministic: the same calls give
 * the same findings. A call is wasted at most once (the first rule that matches it), so totals never
 * double-count. Works on hashes, sizes and token counts only: no raw content is needed.
 */

export type WasteKind =
  're_read' | 'repeated_search' | 'retry_loop' | 'unchanged_rerun' | 're_fetch' | 'edit_churn';
export const WASTE_KINDS: readonly WasteKind[] = [
  're_read',
  'repeated_search',
  'retry_loop',
  'unchanged_rerun',
  're_fetch',
  'edit_churn',
];

export type CallClass = 'read' | 'write' | 'search' | 'exec' | 'fetch' | 'other';

/** One call of a session, as the rules see it. */
export interface SessionCall {
  spanId: string;
  /** Start time, for ordering (ns since the epoch). */
  at: bigint;
  /** End time: breaks ties between calls that started in the same clock tick (a call issued by an LLM call ends first). */
  end?: bigint;
  type: 'llm' | 'tool' | 'compaction';
  // tool calls
  toolName?: string;
  toolClass?: CallClass | '';
  argsHash?: string;
  targetHash?: string;
  /** Line range read, when the harness reported one (inclusive); absent = the whole target. */
  rangeStart?: number;
  rangeEnd?: number;
  resultTokens?: number;
  isError?: boolean;
  /** Hash of the result or error, when known (tells one failure from another). */
  resultHash?: string;
  /** The failure looks transient (timeout, reset, 429/503): one retry of it is not a loop. */
  transient?: boolean;
  /** Writes: content hashes before and after the edit (edit churn: a later edit that restores an earlier state). */
  beforeHash?: string;
  afterHash?: string;
  /** Reads: further targets read whole (`cat a b`, read_many_files); writes: further targets written. */
  targetHashes?: readonly string[];
  /**
   * Runs: `none` (reads, tests, builds: nothing in the workspace changes), `paths` (writes only
   * `touches`) or `all` (may change anything). Absent: `all`, as for any command not classified.
   */
  mutates?: 'none' | 'paths' | 'all';
  /** For `mutates: 'paths'`: the target hashes the command writes. */
  touches?: readonly string[];
  // LLM calls
  outputTokens?: number;
}

export interface RawFinding {
  kind: WasteKind;
  /** The redundant call. */
  spanId: string;
  /** The earlier call it repeats. */
  repeatsSpanId: string;
  toolName: string;
  /** Result tokens of the redundant call: they entered the context for nothing. */
  resultTokens: number;
  /** For retry loops: how many identical runs in a row so far (2 = one retry). */
  loopLength: number;
}

/**
 * sha256 of `content:*`: a write whose `touches` include it names the search scopes it can change
 * (`content:<dir>`, `names:<dir>` hashed; see `writeTouches` in tool-schemas.ts). Searches whose
 * scope (their target) is not among them stay current; without it, a write makes every search stale.
 */
export const SCOPED_TOUCH = '430021ccb6cc1a1166afcd572d08d64dbc94c8962f2c5fddd74ac4d9dc9796a4';

/** The searches still current after a write that touches these scopes. */
function untouched(
  searches: Map<string, SessionCall>,
  touches: readonly string[] | undefined,
): Map<string, SessionCall> {
  if (!touches?.includes(SCOPED_TOUCH)) return new Map();
  const touched = new Set(touches);
  return new Map(
    [...searches].filter(
      ([, s]) => s.targetHash !== undefined && s.targetHash !== '' && !touched.has(s.targetHash),
    ),
  );
}

/** Tools whose effect may change what a read, search or run would see. */
const MUTATES = new Set<CallClass | ''>(['write', 'exec']);

/**
 * Does an earlier read cover a later one of the same file? Ranges are 1-based inclusive lines; no
 * start = from line 1, no end = to the end of the file; start -1 = a tail (unknown lines: only
 * the same call or a whole-file read covers it).
 */
function covers(earlier: SessionCall, later: SessionCall, primary: boolean): boolean {
  if (primary && earlier.argsHash && earlier.argsHash === later.argsHash) return true;
  const es = earlier.rangeStart ?? 1;
  const ee = earlier.rangeEnd ?? Infinity;
  if (!primary) return es <= 1 && ee === Infinity; // a further target of a multi-file read: read whole
  const ls = later.rangeStart ?? 1;
  const le = later.rangeEnd ?? Infinity;
  if (ls === -1) return es <= 1 && ee === Infinity;
  if (es === -1) return false;
  return es <= ls && le <= ee;
}

const targetsOf = (c: SessionCall): string[] =>
  c.targetHash ? [c.targetHash, ...(c.targetHashes ?? [])] : [...(c.targetHashes ?? [])];

/** The earlier valid read that covers every target of this one, if any (named by its primary target). */
function coveringRead(reads: readonly SessionCall[], c: SessionCall): SessionCall | undefined {
  let found: SessionCall | undefined;
  for (const [i, t] of targetsOf(c).entries()) {
    const r = reads.find(
      (r) =>
        (r.targetHash === t && covers(r, c, i === 0 && !c.targetHashes?.length)) ||
        (r.targetHashes?.includes(t) === true && covers(r, c, false)),
    );
    if (!r) return undefined;
    found ??= r;
  }
  return found;
}

/** Orders calls by start time, then span id, so out-of-order arrival gives the same findings. */
export function orderCalls(calls: readonly SessionCall[]): SessionCall[] {
  const cmp = (x: bigint, y: bigint): number => (x < y ? -1 : x > y ? 1 : 0);
  return [...calls].sort(
    (a, b) =>
      cmp(a.at, b.at) || cmp(a.end ?? a.at, b.end ?? b.at) || a.spanId.localeCompare(b.spanId),
  );
}

/** Finds the redundant calls of one session. */
export function findRedundancy(input: readonly SessionCall[]): RawFinding[] {
  const calls = orderCalls(input);
  const findings: RawFinding[] = [];
  // Reads, searches and runs still valid: cleared by anything that may have changed the workspace.
  let reads: SessionCall[] = [];
  let searches = new Map<string, SessionCall>();
  const runs = new Map<
    string,
    {
      call: SessionCall;
      failed: boolean;
      loop: number;
      resultHash: string | undefined;
      transient?: boolean;
    }
  >();
  const fetches = new Map<string, SessionCall>();
  const writes: SessionCall[] = [];
  const churned = new Set<string>();

  for (const c of calls) {
    if (c.type === 'compaction') {
      // After a compaction the model no longer has earlier results: reading again is not waste.
      reads = [];
      searches = new Map();
      fetches.clear();
      continue;
    }
    if (c.type !== 'tool') continue;
    const cls = c.toolClass ?? '';
    const base = {
      spanId: c.spanId,
      toolName: c.toolName ?? '',
      resultTokens: c.resultTokens ?? 0,
    };

    if (cls === 'read' && c.targetHash) {
      const earlier = c.isError ? undefined : coveringRead(reads, c);
      if (earlier)
        findings.push({ ...base, kind: 're_read', repeatsSpanId: earlier.spanId, loopLength: 0 });
      else if (!c.isError) reads.push(c);
      continue;
    }
    if (cls === 'search' && c.argsHash) {
      const earlier = c.isError ? undefined : searches.get(c.argsHash);
      if (earlier)
        findings.push({
          ...base,
          kind: 'repeated_search',
          repeatsSpanId: earlier.spanId,
          loopLength: 0,
        });
      else if (!c.isError) searches.set(c.argsHash, c);
      continue;
    }
    if (cls === 'fetch' && (c.targetHash || c.argsHash)) {
      const key = c.targetHash || c.argsHash || '';
      const earlier = c.isError ? undefined : fetches.get(key);
      if (earlier)
        findings.push({ ...base, kind: 're_fetch', repeatsSpanId: earlier.spanId, loopLength: 0 });
      else if (!c.isError) fetches.set(key, c);
      continue;
    }
    if (cls === 'exec' && c.argsHash) {
      const mutates = c.mutates ?? 'all';
      const prev = runs.get(c.argsHash);
      if (prev && !prev.failed && c.mutates !== undefined && c.mutates !== 'none') {
        // A write command that worked, run again (an install, a formatter): its effect may be wanted again.
      } else if (prev) {
        if (prev.failed && prev.transient && prev.loop === 1) {
          // One retry of a transient failure is what a careful agent does: not a loop (a second one is).
          runs.set(c.argsHash, { ...prev, failed: c.isError === true, loop: 2, transient: false });
        } else if (prev.failed) {
          const loop = prev.loop + 1;
          findings.push({
            ...base,
            kind: 'retry_loop',
            repeatsSpanId: prev.call.spanId,
            loopLength: loop,
          });
          runs.set(c.argsHash, {
            call: prev.call,
            failed: c.isError === true,
            loop,
            resultHash: c.resultHash,
          });
        } else {
          findings.push({
            ...base,
            kind: 'unchanged_rerun',
            repeatsSpanId: prev.call.spanId,
            loopLength: 0,
          });
        }
      } else {
        runs.set(c.argsHash, {
          call: c,
          failed: c.isError === true,
          loop: 1,
          resultHash: c.resultHash,
          transient: c.transient === true,
        });
      }
      // Another command's last run is no longer known to hold (a build can change what a test
      // sees). Reads, tests and builds change no source: reads and searches stay valid. A command
      // that may write: what it touches (or everything) is no longer known to be current.
      for (const k of [...runs.keys()]) if (k !== c.argsHash) runs.delete(k);
      if (mutates === 'none') continue;
      if (mutates === 'paths') {
        // (no touched files: the command changed no file's content, e.g. git commit, mkdir)
        const touched = new Set(c.touches ?? []);
        reads = reads.filter((r) => !targetsOf(r).some((t) => touched.has(t)));
        searches = untouched(searches, c.touches);
      } else {
        reads = [];
        searches = new Map();
      }
      for (const k of [...runs.keys()]) if (k !== c.argsHash) runs.delete(k);
      continue;
    }
    if (cls === 'write' && c.targetHash && !c.isError) {
      // Edit churn: this edit puts back what an earlier edit of the same target replaced.
      const undone = [...writes]
        .reverse()
        .find(
          (w) =>
            w.targetHash === c.targetHash &&
            w.afterHash !== undefined &&
            w.beforeHash !== undefined &&
            w.afterHash === c.beforeHash &&
            w.beforeHash === c.afterHash,
        );
      if (undone && !churned.has(undone.spanId)) {
        churned.add(undone.spanId);
        findings.push({ ...base, kind: 'edit_churn', repeatsSpanId: undone.spanId, loopLength: 0 });
      }
      writes.push(c);
    }
    if (MUTATES.has(cls)) {
      // A write: what was read of that target is stale; searches and runs may see something new.
      const written = new Set(targetsOf(c));
      reads =
        written.size > 0 ? reads.filter((r) => !targetsOf(r).some((t) => written.has(t))) : [];
      searches = c.isError ? searches : untouched(searches, c.touches);
      runs.clear();
    }
  }
  return findings;
}
