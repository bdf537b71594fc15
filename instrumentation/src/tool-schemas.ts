/**
 * Per-tool argument schemas of the agents harness-meter knows (Claude Code, Codex, Cursor, Gemini
 * CLI, MCP servers, and common SDK harness names): which fields identify a call (free text such
 * as `description` or `explanation` is dropped), defaults filled in, paths resolved against the
 * session's working directory, ranges as 1-based inclusive lines, shell commands through the shell
 * model. Unknown tools return undefined: the caller keeps the generic normalization.
 */
import { posix } from 'node:path';
import { canonicalJson, sha256Hex, type ToolClass } from './hashing.js';
import { parsePatch } from './patch.js';
import { ANY_CONTENT, scopeTarget, writeTouches } from './scopes.js';
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
  touches?: string[];
  /** A shell command that moved its working directory (`cd x && …`): where it ended. */
  shellCwd?: string;
  /** Writes: the call may create or delete its files (Write, `apply_patch` Add), not only edit them. */
  mayCreate?: boolean;
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

export { parsePatch } from './patch.js';

/** Claude Code's Read and Gemini CLI's read_file stop at 2,000 lines unless told otherwise. */
export const DEFAULT_READ_LIMIT = 2000;

type Args = Record<string, unknown>;
const isObj = (v: unknown): v is Args => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (a: Args, ...keys: string[]): string | undefined => {
  for (const k of keys) {
    const v = a[k];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
};
const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v)
    ? Math.trunc(v)
    : typeof v === 'string' && /^\d+$/.test(v)
      ? Number(v)
      : undefined;
const collapse = (s: string): string => s.trim().replace(/\s+/g, ' ');

/** A path resolved against the working directory, normalized (no trailing slash, no `./`). */
export function resolvePath(p: string, cwd = ''): string {
  const n = posix.normalize(p.replace(/\\/g, '/'));
  const abs = cwd && !n.startsWith('/') && !n.startsWith('~') ? posix.join(cwd, n) : n;
  return abs.length > 1 && abs.endsWith('/') ? abs.slice(0, -1) : abs;
}

function readShape(
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

function editShape(path: string, before: string | undefined, after: string | undefined): CallShape {
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

function patchShape(input: string, cwd: string): CallShape | undefined {
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
function shellShape(command: unknown, cwd: string, o: DescribeOptions): CallShape | undefined {
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

function shapeOfAnalysis(a: ShellAnalysis): CallShape | undefined {
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
  const target = canonicalJson(key);
  if (a.effect === 'read' || a.effect === 'search' || a.effect === 'list' || a.effect === 'query')
    return toolEquivalent(a) ?? { cls: 'search', key, target: scopeTarget(a.scope) };
  if (a.effect === 'run') return { cls: 'exec', key, target, mutates: 'none' };
  // A touched path without an extension may be a directory: then anything under it may change.
  const knowable = a.touches?.every((p) => /\.[^/]+$/.test(posix.basename(p)));
  if (!knowable || !a.touches) return { cls: 'exec', key, target, mutates: 'all' };
  // (no files: e.g. git commit, mkdir: listings and history may change, so no scopes are given)
  const scoped = a.touches.length > 0 ? writeTouches(a.touches, new Set(a.creates)) : undefined;
  return { cls: 'exec', key, target, mutates: 'paths', touches: scoped ?? a.touches };
}

const DROP = new Set([
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
function identity(name: string, args: unknown): CallShape {
  const kept = isObj(args)
    ? Object.fromEntries(Object.entries(args).filter(([k]) => !DROP.has(k)))
    : args;
  const key = { tool: name, args: kept ?? null };
  return { cls: 'fetch', key, target: canonicalJson(key) };
}

/** MCP tools whose name says they only look things up (`get_issue`, `list_files`, `query`, `search_code`). */
const MCP_LOOKUP =
  /^(get|list|search|read|fetch|query|describe|find|lookup|show|view|retrieve|resolve)([-_]|$)/;

type Schema = (a: Args, cwd: string, o: DescribeOptions, name: string) => CallShape | undefined;

const grepKey = (pattern: string, path: string, extra: Record<string, unknown>): CallShape => {
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

const SCHEMAS: Record<string, Schema> = {
  // ── reads ──
  read: (a, cwd) => {
    const p = str(a, 'file_path', 'path');
    if (!p) return undefined;
    const start = num(a.offset) ?? 1;
    const limit = num(a.limit);
    return readShape(
      resolvePath(p, cwd),
      Math.max(1, start),
      start + (limit ?? DEFAULT_READ_LIMIT) - 1,
      limit === undefined || limit === DEFAULT_READ_LIMIT,
    );
  },
  read_file: (a, cwd) => {
    const cursor = str(a, 'target_file');
    if (cursor) {
      const path = resolvePath(cursor, cwd);
      if (a.should_read_entire_file === true) return readShape(path, 1, undefined);
      const s = num(a.start_line_one_indexed) ?? 1;
      return readShape(path, s, num(a.end_line_one_indexed_inclusive));
    }
    const gemini = str(a, 'absolute_path', 'file_path');
    if (gemini) {
      // Gemini CLI: 0-based offset, 2,000 lines by default
      const start = (num(a.offset) ?? 0) + 1;
      const limit = num(a.limit);
      return readShape(
        resolvePath(gemini, cwd),
        start,
        start + (limit ?? DEFAULT_READ_LIMIT) - 1,
        limit === undefined,
      );
    }
    const p = str(a, 'path', 'filePath');
    if (!p) return undefined;
    const s = num(a.start_line) ?? num(a.line_start) ?? num(a.startLine);
    const e = num(a.end_line) ?? num(a.line_end) ?? num(a.endLine);
    return readShape(resolvePath(p, cwd), s ?? 1, e);
  },
  read_many_files: (a, cwd) => {
    const paths = Array.isArray(a.paths)
      ? a.paths.filter((p): p is string => typeof p === 'string')
      : [];
    if (paths.length === 0) return undefined;
    const resolved = paths.map((p) => resolvePath(p, cwd));
    if (resolved.some((p) => /[*?[]/.test(p)))
      return {
        cls: 'search',
        key: { op: 'read_many', paths: resolved, include: a.include ?? null },
        target: ANY_CONTENT,
      };
    return {
      cls: 'read',
      key: { op: 'read', paths: [...resolved].sort(), start: 1, end: null },
      target: resolved[0] ?? '',
      targets: resolved.slice(1),
      range: { start: 1 },
    };
  },
  // ── writes ──
  write: (a, cwd) => {
    const p = str(a, 'file_path', 'path');
    const content = typeof a.content === 'string' ? a.content : undefined;
    if (!p || content === undefined) return undefined;
    return { ...editShape(resolvePath(p, cwd), undefined, content), fullWrite: true };
  },
  edit: (a, cwd) => {
    const p = str(a, 'file_path', 'path');
    if (!p) return undefined;
    const before =
      typeof a.old_string === 'string'
        ? a.old_string
        : typeof a.old_str === 'string'
          ? a.old_str
          : undefined;
    const after =
      typeof a.new_string === 'string'
        ? a.new_string
        : typeof a.new_str === 'string'
          ? a.new_str
          : undefined;
    return editShape(resolvePath(p, cwd), before, after);
  },
  multiedit: (a, cwd) => {
    const p = str(a, 'file_path', 'path');
    if (!p || !Array.isArray(a.edits)) return undefined;
    const edits = a.edits.filter(isObj);
    return editShape(
      resolvePath(p, cwd),
      edits.map((e) => (typeof e.old_string === 'string' ? e.old_string : '')).join('\u0000'),
      edits.map((e) => (typeof e.new_string === 'string' ? e.new_string : '')).join('\u0000'),
    );
  },
  edit_file: (a, cwd) => {
    const p = str(a, 'target_file', 'file_path', 'path');
    if (!p) return undefined;
    // Cursor's edit_file also creates files
    return {
      ...editShape(
        resolvePath(p, cwd),
        undefined,
        typeof a.code_edit === 'string' ? a.code_edit : undefined,
      ),
      mayCreate: true,
    };
  },
  notebookedit: (a, cwd) => {
    const p = str(a, 'notebook_path');
    if (!p) return undefined;
    const shape = editShape(
      resolvePath(p, cwd),
      undefined,
      typeof a.new_source === 'string' ? a.new_source : undefined,
    );
    shape.key = { ...(shape.key as Args), cell: a.cell_id ?? null, mode: a.edit_mode ?? 'replace' };
    return shape;
  },
  apply_patch: (a, cwd) => {
    const input = str(a, 'input', 'patch');
    return input ? patchShape(input, cwd) : undefined;
  },
  // ── searches and listings ──
  grep: (a, cwd) => {
    const pattern = str(a, 'pattern');
    if (pattern === undefined) return undefined;
    return grepKey(pattern, resolvePath(str(a, 'path') ?? '.', cwd), {
      glob: a.glob ?? null,
      type: a.type ?? null,
      mode: a.output_mode ?? 'files_with_matches',
      i: a['-i'] === true,
      context: [a['-A'] ?? null, a['-B'] ?? null, a['-C'] ?? null],
      head: a.head_limit ?? null,
      multiline: a.multiline === true,
    });
  },
  search_file_content: (a, cwd) => {
    const pattern = str(a, 'pattern');
    if (pattern === undefined) return undefined;
    return grepKey(pattern, resolvePath(str(a, 'path', 'dir_path') ?? '.', cwd), {
      glob: a.include ?? null,
      mode: 'content',
    });
  },
  grep_search: (a, cwd) => {
    const pattern = str(a, 'query');
    if (pattern === undefined) return undefined;
    return grepKey(pattern, resolvePath('.', cwd), {
      glob: a.include_pattern ?? null,
      exclude: a.exclude_pattern ?? null,
      case: a.case_sensitive ?? null,
      mode: 'content',
    });
  },
  glob: (a, cwd) => {
    const pattern = str(a, 'pattern');
    if (pattern === undefined) return undefined;
    const key = {
      op: 'glob',
      pattern,
      path: resolvePath(str(a, 'path', 'dir_path') ?? '.', cwd),
      case: a.case_sensitive ?? false,
      gitignore: a.respect_git_ignore ?? true,
    };
    return { cls: 'search', key, target: scopeTarget(`names:${key.path}`) };
  },
  ls: (a, cwd) => {
    const p = str(a, 'path', 'relative_workspace_path', 'dir_path', 'directory') ?? '.';
    // An empty ignore list ignores nothing: the same as none (Gemini's list_directory default).
    const ignore = Array.isArray(a.ignore) && a.ignore.length === 0 ? null : (a.ignore ?? null);
    const key = { op: 'list', path: resolvePath(p, cwd), ignore };
    return { cls: 'search', key, target: scopeTarget(`names:${key.path}`) };
  },
  file_search: (a, cwd) => {
    const q = str(a, 'query');
    if (q === undefined) return undefined;
    const key = { op: 'file_search', query: q };
    return { cls: 'search', key, target: scopeTarget(`names:${resolvePath('.', cwd)}`) };
  },
  codebase_search: (a, cwd) => {
    const q = str(a, 'query');
    if (q === undefined) return undefined;
    const key = { op: 'codebase_search', query: collapse(q), dirs: a.target_directories ?? [] };
    const dirs = Array.isArray(a.target_directories) ? a.target_directories : [];
    const one = dirs.length === 1 && typeof dirs[0] === 'string' ? dirs[0] : '.';
    return { cls: 'search', key, target: scopeTarget(`content:${resolvePath(one, cwd)}`) };
  },
  // ── shells ──
  // (Claude Code's tool_parameters log the command as full_command / bash_command)
  bash: (a, cwd, o) =>
    shellShape(a.command ?? a.full_command ?? a.bash_command, o.shellCwd ?? cwd, o),
  shell: (a, cwd, o) => shellShape(a.command, resolvePath(str(a, 'workdir') ?? '.', cwd), o),
  exec_command: (a, cwd, o) =>
    shellShape(a.cmd ?? a.command, resolvePath(str(a, 'workdir', 'cwd') ?? '.', cwd), o),
  run_shell_command: (a, cwd, o) =>
    shellShape(a.command, resolvePath(str(a, 'directory', 'dir_path') ?? '.', cwd), o),
  run_terminal_cmd: (a, cwd, o) => shellShape(a.command, o.shellCwd ?? cwd, o),
  run_command: (a, cwd, o) =>
    shellShape(a.command, resolvePath(str(a, 'cwd', 'workdir') ?? '.', cwd), o),
  // Anthropic's text editor tool (`str_replace_based_edit_tool`, formerly `str_replace_editor`):
  // one tool, the operation in `command`; `view_range` is 1-based inclusive, -1 = to the end.
  str_replace_based_edit_tool: (a, cwd, o, name) => {
    const p = str(a, 'path');
    if (!p) return undefined;
    const path = resolvePath(p, cwd);
    switch (a.command) {
      case 'view': {
        const r = Array.isArray(a.view_range) ? a.view_range.map(num) : [];
        const start = r[0] ?? 1;
        const end = r[1] === undefined || r[1] === -1 ? undefined : r[1];
        return readShape(path, Math.max(1, start), end);
      }
      case 'str_replace':
        return SCHEMAS.edit?.(a, cwd, o, name);
      case 'create':
        return typeof a.file_text === 'string'
          ? { ...editShape(path, undefined, a.file_text), fullWrite: true }
          : undefined;
      case 'insert':
        return {
          ...editShape(path, undefined, typeof a.new_str === 'string' ? a.new_str : undefined),
          key: { op: 'insert', path, line: a.insert_line ?? null, text: a.new_str ?? null },
        };
      default:
        // undo_edit and anything newer: a write of that file, content unknown
        return editShape(path, undefined, undefined);
    }
  },
  // ── the web ──
  webfetch: (a) => {
    const url = str(a, 'url');
    if (!url) return undefined;
    // The same page asked another question extracts other content: the prompt is part of the identity.
    const key = { op: 'fetch', url: url.trim(), prompt: collapse(str(a, 'prompt') ?? '') };
    return { cls: 'fetch', key, target: canonicalJson(key) };
  },
  web_fetch: (a) => {
    const url = str(a, 'url');
    const key = url
      ? { op: 'fetch', url: url.trim(), prompt: collapse(str(a, 'prompt') ?? '') }
      : { op: 'fetch', prompt: collapse(str(a, 'prompt') ?? '') };
    return { cls: 'fetch', key, target: canonicalJson(key) };
  },
  websearch: (a) => {
    const q = str(a, 'query', 'search_term');
    if (!q) return undefined;
    const key = {
      op: 'web_search',
      query: collapse(q),
      allow: a.allowed_domains ?? null,
      block: a.blocked_domains ?? null,
    };
    return { cls: 'fetch', key, target: canonicalJson(key) };
  },
  fetch: (a) => {
    const url = str(a, 'url');
    if (!url) return undefined;
    const method = (str(a, 'method') ?? 'GET').toUpperCase();
    const key = { op: 'fetch', url: url.trim(), method };
    return {
      cls: method === 'GET' || method === 'HEAD' ? 'fetch' : 'other',
      key,
      target: canonicalJson(key),
    };
  },
};

/** Other names of the same shapes. */
const ALIASES: Record<string, string> = {
  readfile: 'read_file',
  view: 'read',
  notebookread: 'read',
  write_file: 'write',
  create_file: 'write',
  replace: 'edit',
  search_replace: 'edit',
  str_replace: 'edit',
  list_dir: 'ls',
  list_directory: 'ls',
  google_web_search: 'websearch',
  web_search: 'websearch',
  http_get: 'fetch',
  fetch_url: 'fetch',
  url_fetch: 'fetch',
  list_files: 'ls',
  str_replace_editor: 'str_replace_based_edit_tool',
  read_text_file: 'read_file',
  // Codex's string-form shell tool (`command` is a script, `workdir` as for `shell`)
  shell_command: 'shell',
  local_shell: 'shell',
  terminal: 'bash',
};

/** Tools that only keep the harness's own bookkeeping: never waste, never change the workspace. */
const BOOKKEEPING = new Set([
  'todowrite',
  'todo_write',
  'update_plan',
  'task',
  'save_memory',
  'exitplanmode',
]);

/**
 * Describes a tool call from its name and arguments, or undefined for a tool this table does not
 * know (then the generic normalization applies, as before these schemas).
 */
export function describeToolCall(
  name: string,
  args: unknown,
  options: DescribeOptions = {},
): CallShape | undefined {
  const cwd = options.cwd ?? '';
  const lower = name.toLowerCase();
  const mcp = /^mcp__(.+?)__(.+)$/.exec(lower);
  const base = mcp ? (mcp[2] ?? '') : lower;
  if (BOOKKEEPING.has(base)) return { cls: 'other', key: { tool: lower, args: args ?? null } };
  if (!isObj(args)) return undefined;
  const schema = SCHEMAS[ALIASES[base] ?? base];
  if (schema) {
    const shape = schema(args, cwd, options, lower);
    if (shape?.cls === 'write' && shape.target !== undefined && !shape.touches) {
      const files = [shape.target, ...(shape.targets ?? [])];
      const touches = writeTouches(files, new Set(shape.mayCreate || shape.fullWrite ? files : []));
      if (touches) shape.touches = touches;
    }
    if (shape) return shape;
  }
  // MCP tools that only look things up: identical calls are repeats. Others: the generic path.
  if (mcp && MCP_LOOKUP.test(base)) return identity(lower, args);
  return undefined;
}
