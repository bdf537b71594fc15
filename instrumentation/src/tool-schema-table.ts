/**
 * The per-tool table of tool-schemas.ts: for each tool name an agent uses (Claude Code, Codex,
 * Cursor, Gemini CLI, MCP servers, common SDK names), the fields that identify a call, its
 * defaults and its shape; other names of the same tools; and the bookkeeping tools that are never
 * waste. Built from the helpers in tool-shapes.ts.
 */
import { ANY_CONTENT, scopeTarget } from './scopes.js';
import {
  collapse,
  DEFAULT_READ_LIMIT,
  editShape,
  grepKey,
  isObj,
  keyTarget,
  num,
  patchShape,
  readShape,
  resolvePath,
  shellShape,
  str,
  type Args,
  type Schema,
} from './tool-shapes.js';

export const SCHEMAS: Record<string, Schema> = {
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
    return { cls: 'fetch', key, target: keyTarget(key) };
  },
  web_fetch: (a) => {
    const url = str(a, 'url');
    const key = url
      ? { op: 'fetch', url: url.trim(), prompt: collapse(str(a, 'prompt') ?? '') }
      : { op: 'fetch', prompt: collapse(str(a, 'prompt') ?? '') };
    return { cls: 'fetch', key, target: keyTarget(key) };
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
    return { cls: 'fetch', key, target: keyTarget(key) };
  },
  fetch: (a) => {
    const url = str(a, 'url');
    if (!url) return undefined;
    const method = (str(a, 'method') ?? 'GET').toUpperCase();
    const key = { op: 'fetch', url: url.trim(), method };
    return {
      cls: method === 'GET' || method === 'HEAD' ? 'fetch' : 'other',
      key,
      target: keyTarget(key),
    };
  },
};

/** Other names of the same shapes. */
export const ALIASES: Record<string, string> = {
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
export const BOOKKEEPING = new Set([
  'todowrite',
  'todo_write',
  'update_plan',
  'task',
  'save_memory',
  'exitplanmode',
]);
