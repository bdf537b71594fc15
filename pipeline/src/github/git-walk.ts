/**
 * Thin shell of the line walk: streams `git log` of the base branch, works out which commits each
 * merged PR brought, splits a PR's added lines by the commit that wrote them (`git blame` over
 * merge^1..merge, only when a PR mixes agent and human commits), feeds the diffs to the pure
 * tracker, and reads defect references from the messages. Written on git's own plumbing rather
 * than a git library: the npm ones (isomorphic-git, nodegit, simple-git) either re-implement diff
 * in JS (slower than git by far on 100k commits) or wrap the same `git log -p` we stream here.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { DefectRow, LineFateRow, GitWalkRow } from '@harness-meter/queries';
import { toClickHouseTime } from '@harness-meter/queries';
import { PipelineError } from '../errors.js';
import { createBlamer } from './blamer.js';
import { createDiffParser, type ParsedCommit } from './diff-parse.js';
import { messageReferences, type DefectReference } from './defects.js';
import { sessionTrailer, squashSessionTrailer } from './events.js';
import { git, prOfSubject, resolveRepo } from './import.js';
import { createLineTracker, LINE_WINDOWS_DAYS, type LineGroup } from './line-tracker.js';

const DAY_MS = 86_400_000;
/** Compact the tracker (release lines whose 30-day window closed) every so many commits. */
export const COMPACT_EVERY_COMMITS = 500;
/** Parsed commits that may wait while a blame runs, before git's stream is held. */
export const WALK_QUEUE_COMMITS = 256;

export interface GitWalkOptions {
  repo?: string;
  base?: string;
  /** Where the last import stopped: only commits after it are new (the 30 days before are re-walked). */
  last?: { head_sha: string; head_at: Date };
  /** The time the history is observed at (windows ending later are provisional); default now. */
  now?: Date;
}

export interface GitWalkResult {
  repo: string;
  base: string;
  lineFates: LineFateRow[];
  defects: DefectRow[];
  walk: GitWalkRow;
  /** First-parent commits walked (diffs read) and how many PRs needed a blame. */
  stats: { commits: number; firstParent: number; blamedPrs: number; incremental: boolean };
}

interface Node {
  parents: string[];
  atMs: number;
  author: string;
  session: string;
  subject: string;
  refs: DefectReference[];
}

/** Streams a git command's stdout line by line; rejects with git's stderr on failure. */
export async function streamGit(
  path: string,
  args: string[],
  /** May return a promise to hold the stream (backpressure) until it settles. */
  onLine: (line: string) => void | Promise<void>,
): Promise<void> {
  const child = spawn('git', ['-C', path, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    if (stderr.length < 4096) stderr += d;
  });
  const exit = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
  const rl = createInterface({ input: child.stdout, crlfDelay: Infinity });
  for await (const line of rl) {
    const wait = onLine(line);
    if (wait !== undefined) await wait;
  }
  const code = await exit;
  if (code !== 0)
    throw new PipelineError(
      'BAD_REQUEST',
      `git ${args[0] ?? ''} failed in ${path}: ${stderr.trim() || `exit code ${code}`}`,
    );
}

/** Every commit reachable from the base branch: parents, time, author, trailer, references. */
async function readGraph(path: string, base: string, repo: string): Promise<Map<string, Node>> {
  const nodes = new Map<string, Node>();
  let sha = '';
  let node: Node | undefined;
  let body: string[] = [];
  const done = (): void => {
    if (node === undefined) return;
    const message = body.join('\n');
    const { pr, merge } = prOfSubject(node.subject);
    node.session =
      sessionTrailer(message) || (pr > 0 && !merge ? squashSessionTrailer(message) : '');
    node.refs = messageReferences(message, repo);
    nodes.set(sha, node);
    node = undefined;
  };
  await streamGit(
    path,
    ['log', base, '--format=%x1e%H%x1f%P%x1f%ct%x1f%an%x1f%B', '--no-color'],
    (line) => {
      if (line.startsWith('\x1e')) {
        done();
        const [h = '', p = '', ct = '', an = '', first = ''] = line.slice(1).split('\x1f');
        sha = h;
        node = {
          parents: p === '' ? [] : p.split(' '),
          atMs: Number(ct) * 1000,
          author: an,
          session: '',
          subject: first,
          refs: [],
        };
        body = [first];
      } else body.push(line);
    },
  );
  done();
  return nodes;
}

/**
 * Walks the base branch of a local clone and returns line fates and defect links (see the README,
 * "Code churn, survival and defect escape").
 */
export async function walkGitLines(
  path: string,
  options: GitWalkOptions = {},
): Promise<GitWalkResult> {
  const { repo, base: baseOpt } = resolveRepo(path, options);
  if (baseOpt === undefined)
    throw new PipelineError(
      'BAD_REQUEST',
      `${path} has no main or master branch: pass --base BRANCH (the default branch PRs merge into).`,
    );
  const base = baseOpt;
  const nowMs = (options.now ?? new Date()).getTime();
  const observedAt = toClickHouseTime(new Date(nowMs));
  const tip = git(path, ['rev-parse', '--verify', `refs/heads/${base}^{commit}`]).trim();
  const nodes = await readGraph(path, base, repo);

  // First-parent chain, oldest first; each commit's PR and the commits it brought (merge^1..merge^2).
  const chain: string[] = [];
  for (let c: string | undefined = tip; c !== undefined; c = nodes.get(c)?.parents[0])
    chain.push(c);
  chain.reverse();
  const prOf = new Map<string, number>();
  const broughtBy = new Map<string, string[]>(); // merge sha -> PR commits
  const onBase = new Set<string>();
  for (const c of chain) {
    onBase.add(c);
    const n = nodes.get(c);
    if (n === undefined) continue;
    const { pr } = prOfSubject(n.subject);
    if (pr > 0) prOf.set(c, pr);
    if (n.parents.length < 2) continue;
    const brought: string[] = [];
    const stack = n.parents.slice(1);
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (onBase.has(x)) continue;
      onBase.add(x);
      brought.push(x);
      for (const p of nodes.get(x)?.parents ?? []) if (!onBase.has(p)) stack.push(p);
    }
    broughtBy.set(c, brought);
    if (pr > 0) for (const x of brought) if (!prOf.has(x)) prOf.set(x, pr);
  }

  // Incremental: start 30 days before where the last walk stopped, if that commit is still on base.
  let startIndex = 0;
  const lastIndex = options.last === undefined ? -1 : chain.indexOf(options.last.head_sha);
  if (options.last !== undefined && lastIndex >= 0) {
    const from = options.last.head_at.getTime() - LINE_WINDOWS_DAYS.survival * DAY_MS;
    startIndex = lastIndex + 1;
    while (startIndex > 0 && (nodes.get(chain[startIndex - 1] ?? '')?.atMs ?? 0) >= from)
      startIndex -= 1;
  }
  const startParent = startIndex > 0 ? chain[startIndex - 1] : undefined;

  const tracker = createLineTracker();
  const blamer = createBlamer(path);
  const groups: LineGroup[] = [];
  const keep = new Set<LineGroup>(); // a PR's main group is kept even when it added no line
  const defects = new Map<string, DefectRow>();
  let blamedPrs = 0;
  let walked = 0;

  const group = (merge: string, origin: string, pr: number, atMs: number): LineGroup => {
    const o = nodes.get(origin);
    const g: LineGroup = {
      merge_sha: merge,
      pr,
      merged_at_ms: atMs,
      origin_sha: origin,
      origin_session: o?.session ?? '',
      origin_author: o?.author ?? '',
      lines_added: 0,
      rewritten_14d: 0,
      removed_14d: 0,
      rewritten_30d: 0,
      removed_30d: 0,
    };
    groups.push(g);
    return g;
  };

  const resolveSha = (sha: string): number | undefined => {
    const full = prOf.get(sha);
    if (full !== undefined || sha.length === 40) return full;
    for (const [k, v] of prOf) if (k.startsWith(sha)) return v;
    return undefined;
  };

  const noteDefects = (sha: string, ownPr: number): void => {
    const n = nodes.get(sha);
    if (n === undefined) return;
    for (const ref of n.refs) {
      const target = 'pr' in ref.target ? ref.target.pr : resolveSha(ref.target.sha);
      if (target === undefined || target === 0 || target === ownPr) continue;
      const key = `${repo}:${target}:commit:${sha}`;
      if (defects.has(key)) continue;
      defects.set(key, {
        repo,
        pr: target,
        defect_key: `commit:${sha}`,
        kind: ref.kind,
        at: toClickHouseTime(new Date(n.atMs)),
        evidence: `commit ${sha.slice(0, 12)}${ownPr > 0 ? ` (in #${ownPr})` : ''}: ${ref.evidence}`,
        source: 'import-git',
      });
    }
  };

  const onCommit = async (c: ParsedCommit): Promise<void> => {
    const n = nodes.get(c.sha);
    if (n === undefined) return;
    walked += 1;
    const pr = prOf.get(c.sha) ?? 0;
    const brought = broughtBy.get(c.sha) ?? [];
    noteDefects(c.sha, pr);
    for (const x of brought) noteDefects(x, pr);
    let groupOf: (file: string, line: number) => LineGroup | undefined;
    if (brought.length === 0) {
      const g = group(c.sha, c.sha, pr, n.atMs);
      if (pr > 0) keep.add(g);
      groupOf = () => g;
    } else {
      const agent = brought.filter((x) => nodes.get(x)?.session !== '');
      const head = n.parents[1] ?? c.sha;
      if (agent.length === 0 || agent.length === brought.length) {
        // One kind of commit: no blame needed; the session is the first agent commit's.
        const g = group(c.sha, head, pr, n.atMs);
        if (agent.length > 0) g.origin_session = nodes.get(agent.at(-1) ?? '')?.session ?? '';
        keep.add(g);
        groupOf = () => g;
      } else {
        blamedPrs += 1;
        const main = group(c.sha, c.sha, pr, n.atMs);
        keep.add(main);
        const inPr = new Set(brought);
        const byOrigin = new Map<string, LineGroup>();
        const origins = new Map<string, Map<number, string>>();
        for (const ch of c.changes)
          if (ch.newPath !== null && ch.hunks.some((h) => h.newCount > 0))
            origins.set(ch.newPath, await blamer.blame(n.parents[0] ?? '', c.sha, ch.newPath));
        groupOf = (file, line) => {
          const origin = origins.get(file)?.get(line);
          if (origin === undefined || !inPr.has(origin)) return main;
          let g = byOrigin.get(origin);
          if (g === undefined) {
            g = group(c.sha, origin, pr, n.atMs);
            byOrigin.set(origin, g);
          }
          return g;
        };
      }
    }
    tracker.apply(n.atMs, c.changes, groupOf);
    if (walked % COMPACT_EVERY_COMMITS === 0) tracker.compact(n.atMs);
  };

  // Commits arrive from the parser synchronously; blame makes handling async, so queue them.
  const queue: ParsedCommit[] = [];
  const parser = createDiffParser((c) => queue.push(c));
  // A failure (a blame that fails) stops the walk; it is kept, not left as an unhandled rejection
  // while git is still streaming, and thrown once the stream ends.
  let failure: Error | undefined;
  const drain = async (): Promise<void> => {
    while (queue.length > 0 && failure === undefined) await onCommit(queue.shift()!);
  };
  const step = (): Promise<void> =>
    drain().catch((err: unknown) => {
      failure ??= err instanceof Error ? err : new Error(String(err));
    });
  const args = [
    '-c',
    'core.quotePath=false',
    'log',
    '--first-parent',
    '--reverse',
    '--diff-merges=first-parent',
    '-p',
    '-U0',
    '-M',
    '--no-color',
    '--no-ext-diff',
    '--format=%x1e%H',
    startParent === undefined ? tip : `${startParent}..${tip}`,
  ];
  // Lines are parsed as they stream; commits wait in the queue only while a blame runs.
  let pending = Promise.resolve();
  try {
    await streamGit(path, args, (line) => {
      parser.line(line);
      if (queue.length === 0) return undefined;
      pending = pending.then(step);
      // Bounded memory: while blames run, at most WALK_QUEUE_COMMITS parsed commits wait.
      return queue.length >= WALK_QUEUE_COMMITS ? pending : undefined;
    });
    parser.end();
    await pending.then(step);
  } finally {
    blamer.close();
  }
  if (failure !== undefined) throw failure;

  const lineFates: LineFateRow[] = groups
    .filter((g) => g.lines_added > 0 || keep.has(g))
    .map((g) => ({
      repo,
      merge_sha: g.merge_sha,
      pr: g.pr,
      merged_at: toClickHouseTime(new Date(g.merged_at_ms)),
      origin_sha: g.origin_sha,
      origin_session: g.origin_session,
      origin_author: g.origin_author,
      lines_added: g.lines_added,
      rewritten_14d: g.rewritten_14d,
      removed_14d: g.removed_14d,
      rewritten_30d: g.rewritten_30d,
      removed_30d: g.removed_30d,
      observed_at: observedAt,
    }));
  const tipNode = nodes.get(tip);
  return {
    repo,
    base,
    lineFates,
    defects: [...defects.values()],
    walk: {
      repo,
      base,
      head_sha: tip,
      head_at: toClickHouseTime(new Date(tipNode?.atMs ?? nowMs)),
      commits: walked,
    },
    stats: {
      commits: nodes.size,
      firstParent: walked,
      blamedPrs,
      incremental: startParent !== undefined,
    },
  };
}
