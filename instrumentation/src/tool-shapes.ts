/**
 * The shapes of tool calls (what the redundancy rules need of a call) and the helpers that build
 * them: paths, line ranges, edits, patches, shell commands through the shell model, and the `rg` /
 * `grep` / `ls` commands that equal a harness's own search tools. The per-tool table that uses them
 * is tool-schema-table.ts; describeToolCall (tool-schemas.ts) looks a call up there.
 */
import { posix } from 'node:path';
import { canonicalJson, sha256Hex, type ToolClass } from './hashing.js';
import { parsePatch } from './patch.js';
import { scopeTarget, writeTouches } from './scopes.js';
import { resolve } from './shell-words.js';
import {
  analyzeShell,
  SHELL_COMMANDS,
  tokenizeShell,
  type ShellAnalysis,
  type ShellParser,
  type ShellRule,
} from './shell.js';

/** What a tool call is, as the redundancy rules need it (raw values: hash before storing). */
export interface CallShape {
  cls: ToolClass;
  /** The fields that identify the call (hashed into the args hash). */
  key: unknown;
  /** The thing acted on: a resolved path for reads and writes, else an identity text. */
  target?: string;
  /** Further files the call reads whole or writes (read_many_files, `cat a b`, multi-file patches). */
  targets?: string[];
  /** Lines read, 1-based inclusive; end undefined = to the end of the file; start -1 = a tail. */
  range?: { start: number; end?: number };
  /** The range ends at a default limit: a result with fewer lines means the file ended (whole file). */
  defaultLimit?: boolean;
  /** Content hashes of an edit (before: what it replaced; after: what it wrote). */
  edit?: { before?: string; after?: string };
  /** The call writes the whole file (its before-state is the last content the session wrote there). */
  fullWrite?: boolean;
  /** Shell runs: whether the workspace may change, and where when knowable. */
  mutates?: 'none' | 'paths' | 'all';
  touches?: readonly string[];
  /** A shell command that moved its working directory (`cd x && …`): where it ended. */
  shellCwd?: string;
  /** Writes: the call may create or delete its files (Write, `apply_patch` Add), not only edit them. */
  mayCreate?: boolean;
}

/** The canonical JSON of keys whose text is their target, by key: hashing the key needs no second pass. */
const keyTexts = new WeakMap<object, string>();

/** A key's canonical JSON as its target (searches, fetches and runs are identified by their whole key). */
export function keyTarget(key: object): string {
  const text = canonicalJson(key);
  keyTexts.set(key, text);
  return text;
}

/** A shape's key as canonical JSON: the text `keyTarget` made of it, else written now. */
export function keyText(key: unknown): string {
  const known = typeof key === 'object' && key !== null ? keyTexts.get(key) : undefined;
  return known ?? canonicalJson(key);
}

export interface DescribeOptions {
  /** The session's working directory: relative paths resolve against it. */
  cwd?: string;
  /**
   * Where the agent's persistent shell is now (Claude Code's Bash and Cursor's terminal keep the
   * directory a `cd` moved to between calls); default `cwd`.
   */
  shellCwd?: string;
  /** A shell parser (e.g. `shell-quote`'s `parse`); default the built-in lexer. */
  parse?: ShellParser;
  /** The shell command table (default `SHELL_COMMANDS`, extensible). */
  shellCommands?: Readonly<Record<string, ShellRule>>;
}

/** Claude Code's Read and Gemini CLI's read_file stop at 2,000 lines unless told otherwise. */
export const DEFAULT_READ_LIMIT = 2000;

export type Args = Record<string, unknown>;
export const isObj = (v: unknown): v is Args =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
export const str = (a: Args, ...keys: string[]): string | undefined => {
  for (const k of keys) {
    const v = a[k];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
};
export const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v)
    ? Math.trunc(v)
    : typeof v === 'string' && /^\d+$/.test(v)
      ? Number(v)
      : undefined;
export const collapse = (s: string): string => s.trim().replace(/\s+/g, ' ');

/** A path resolved against the working directory, normalized (no trailing slash, no `./`). */
export const resolvePath = (p: string, cwd = ''): string => resolve(cwd, p);

export function readShape(
  path: string,
  start: number,
  end: number | undefined,
  defaultLimit = false,
): CallShape {
  return {
    cls: 'read',
    key: { op: 'read', path, start, end: end ?? null },
    target: path,
    range: end === undefined ? { start } : { start, end },
    ...(defaultLimit ? { defaultLimit } : {}),
  };
}

export function editShape(
  path: string,
  before: string | undefined,
  after: string | undefined,
): CallShape {
  const edit: { before?: string; after?: string } = {};
  if (before !== undefined) edit.before = sha256Hex(before);
  if (after !== undefined) edit.after = sha256Hex(after);
  return {
    cls: 'write',
    key: { op: 'edit', path, before: edit.before ?? null, after: edit.after ?? null },
    target: path,
    edit,
  };
}

export function patchShape(input: string, cwd: string): CallShape | undefined {
  const files = parsePatch(input);
  const first = files[0];
  if (!first) return undefined;
  const path = resolvePath(first.path, cwd);
  const shape =
    first.op === 'add'
      ? { ...editShape(path, undefined, first.added.join('\n')), fullWrite: true }
      : editShape(
          path,
          first.removed.join('\n'),
          first.op === 'delete' ? '' : first.added.join('\n'),
        );
  if (files.some((f) => f.op !== 'update')) shape.mayCreate = true;
  // `*** Move to: p` renames a file to a path not in the list: treat it as a write anywhere
  if (/^\*\*\* Move to: /m.test(input)) shape.touches = [];
  if (files.length > 1) {
    shape.targets = files.slice(1).map((f) => resolvePath(f.path, cwd));
    delete shape.edit; // several files: no single before/after
    shape.key = { op: 'patch', hash: sha256Hex(input) };
  }
  return shape;
}

/** A shell command (string or argv) → read, search, run or mutation. */
export function shellShape(
  command: unknown,
  cwd: string,
  o: DescribeOptions,
): CallShape | undefined {
  if (Array.isArray(command) && command[0] === 'apply_patch' && typeof command[1] === 'string')
    return patchShape(command[1], cwd);
  if (
    typeof command !== 'string' &&
    !(Array.isArray(command) && command.every((c) => typeof c === 'string'))
  )
    return undefined;
  const a = analyzeShell(command, cwd, o.parse ?? tokenizeShell, o.shellCommands ?? SHELL_COMMANDS);
  const shape = shapeOfAnalysis(a);
  if (shape && a.cwd && a.cwd !== cwd && !/[~$]/.test(a.cwd)) shape.shellCwd = a.cwd;
  return shape;
}

export function shapeOfAnalysis(a: ShellAnalysis): CallShape | undefined {
  if (a.effect === 'read' && a.read && a.read.paths.length > 0) {
    const [path, ...rest] = a.read.paths;
    const shape = readShape(path ?? '', a.read.start, a.read.end);
    if (rest.length > 0) {
      shape.targets = rest;
      shape.key = { op: 'read', paths: a.read.paths, start: a.read.start, end: a.read.end ?? null };
    }
    return shape;
  }
  const key = { op: 'sh', sh: a.key };
  if (a.effect === 'read' || a.effect === 'search' || a.effect === 'list' || a.effect === 'query')
    return toolEquivalent(a) ?? { cls: 'search', key, target: scopeTarget(a.scope) };
  const target = keyTarget(key);
  if (a.effect === 'run') return { cls: 'exec', key, target, mutates: 'none' };
  // A touched path without an extension may be a directory: then anything under it may change.
  const knowable = a.touches?.every((p) => /\.[^/]+$/.test(posix.basename(p)));
  if (!knowable || !a.touches) return { cls: 'exec', key, target, mutates: 'all' };
  // (no files: e.g. git commit, mkdir: listings and history may change, so no scopes are given)
  const scoped = a.touches.length > 0 ? writeTouches(a.touches, new Set(a.creates)) : undefined;
  return { cls: 'exec', key, target, mutates: 'paths', touches: scoped ?? a.touches };
}

export const DROP = new Set([
  'description',
  'explanation',
  'justification',
  'timeout',
  'timeout_ms',
  'is_background',
  'run_in_background',
  'with_escalated_permissions',
  'require_user_approval',
  'instructions',
]);

/** Identity of a call to an MCP or unknown read-like tool: its arguments minus free text. */
export function identity(name: string, args: unknown): CallShape {
  const kept = isObj(args)
    ? Object.fromEntries(Object.entries(args).filter(([k]) => !DROP.has(k)))
    : args;
  const key = { tool: name, args: kept ?? null };
  return { cls: 'fetch', key, target: keyTarget(key) };
}

/** MCP tools whose name says they only look things up (`get_issue`, `list_files`, `query`, `search_code`). */
export const MCP_LOOKUP =
  /^(get|list|search|read|fetch|query|describe|find|lookup|show|view|retrieve|resolve)([-_]|$)/;

export type Schema = (
  a: Args,
  cwd: string,
  o: DescribeOptions,
  name: string,
) => CallShape | undefined;

export const grepKey = (
  pattern: string,
  path: string,
  extra: Record<string, unknown>,
): CallShape => {
  const key = { op: 'grep', pattern, path, ...extra };
  return { cls: 'search', key, target: scopeTarget(`content:${path}`) };
};

/** `-A 3`, `-C2`: context lines as numbers. */
const contextLines = (v: string | undefined): number | null =>
  v !== undefined && /^\d+$/.test(v) ? Number(v) : null;

/**
 * A simple `rg` / `grep -r` / `ls` is the same search or listing as Claude Code's Grep / LS tools:
 * give it their key, so Grep then `rg` of the same pattern and path is a repeat. Anything with flags
 * that change what is found beyond these (or several paths, or pipes) keeps its own key.
 */
function toolEquivalent(a: ReturnType<typeof analyzeShell>): CallShape | undefined {
  const c = a.commands[0];
  if (a.commands.length !== 1 || !c || c.redirects.length > 0 || c.pipe) return undefined;
  const name = posix.basename(c.argv[0] ?? '');
  const args = c.argv.slice(1);
  if (name === 'ls') {
    const ops = args.filter((x) => !x.startsWith('-'));
    if (ops.length > 1 || args.some((x) => x.startsWith('-') && !/^-[alhF1G]+$/.test(x)))
      return undefined;
    // `ls -l` also shows sizes and times: not the same listing as LS's names
    const long = args.some((x) => /^-[a-zA-Z1]*[lst]/.test(x));
    const key = {
      op: 'list',
      path: resolvePath(ops[0] ?? '.', c.cwd),
      ignore: null,
      ...(long ? { long } : {}),
    };
    return { cls: 'search', key, target: scopeTarget(a.scope) };
  }
  if (name !== 'rg' && name !== 'grep') return undefined;
  let pattern: string | undefined;
  const paths: string[] = [];
  let mode = 'content';
  let i = false;
  let glob: string | null = null;
  let type: string | null = null;
  const ctx: Record<string, number | null> = { A: null, B: null, C: null };
  for (let k = 0; k < args.length; k++) {
    const x = args[k] ?? '';
    if (!x.startsWith('-') || x === '-') {
      if (pattern === undefined) pattern = x;
      else paths.push(x);
      continue;
    }
    if (['-n', '--line-number', '-H', '--no-heading', '-r', '-R', '--recursive'].includes(x))
      continue;
    if (x === '-i' || x === '--ignore-case') i = true;
    else if (x === '-l' || x === '--files-with-matches') mode = 'files_with_matches';
    else if (x === '-c' || x === '--count') mode = 'count';
    else if (x === '-g' || x === '--glob' || x === '--include') glob = args[++k] ?? null;
    else if (/^--(glob|include)=/.test(x)) glob = x.slice(x.indexOf('=') + 1);
    else if (x === '-t' || x === '--type') type = args[++k] ?? null;
    else if (/^-[ABC]$/.test(x)) ctx[x.charAt(1)] = contextLines(args[++k]);
    else if (/^-[ABC]\d+$/.test(x)) ctx[x.charAt(1)] = contextLines(x.slice(2));
    else if (/^-[rRnHilc]+$/.test(x)) {
      // combined short flags (-rn, -rli)
      i ||= x.includes('i');
      if (x.includes('l')) mode = 'files_with_matches';
      if (x.includes('c')) mode = 'count';
    } else return undefined;
  }
  if (pattern === undefined || paths.length > 1) return undefined;
  return grepKey(pattern, resolvePath(paths[0] ?? '.', c.cwd), {
    glob,
    type,
    mode,
    i,
    context: [ctx.A ?? null, ctx.B ?? null, ctx.C ?? null],
    head: null,
    multiline: false,
  });
}
