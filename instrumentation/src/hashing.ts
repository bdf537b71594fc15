import { hash } from 'node:crypto';
import { posix } from 'node:path';

/** Tool classes, as the pipeline's redundancy rules see them. */
export type ToolClass = 'read' | 'write' | 'search' | 'exec' | 'fetch' | 'other';

/** Built-in tool names of common agents (Claude Code, Codex, Gemini CLI, MCP filesystem servers). */
const BUILTIN_CLASSES: Record<string, ToolClass> = {
  read: 'read',
  read_file: 'read',
  readfile: 'read',
  read_many_files: 'read',
  view: 'read',
  cat: 'read',
  notebookread: 'read',
  write: 'write',
  write_file: 'write',
  edit: 'write',
  multiedit: 'write',
  edit_file: 'write',
  notebookedit: 'write',
  apply_patch: 'write',
  replace: 'write',
  create_file: 'write',
  grep: 'search',
  glob: 'search',
  ls: 'search',
  list_dir: 'search',
  list_directory: 'search',
  search: 'search',
  search_files: 'search',
  find: 'search',
  search_file_content: 'search',
  codebase_search: 'search',
  grep_search: 'search',
  file_search: 'search',
  run_terminal_cmd: 'exec',
  search_replace: 'write',
  str_replace: 'write',
  bash: 'exec',
  shell: 'exec',
  run_command: 'exec',
  run_shell_command: 'exec',
  exec: 'exec',
  exec_command: 'exec',
  local_shell: 'exec',
  terminal: 'exec',
  webfetch: 'fetch',
  web_fetch: 'fetch',
  fetch: 'fetch',
  websearch: 'fetch',
  web_search: 'fetch',
  google_web_search: 'fetch',
  http_request: 'fetch',
};

/** Classifies a tool by name (case-insensitive; `mcp__server__tool` names use their last part). */
export function classifyTool(name: string): ToolClass {
  const n = name.toLowerCase();
  const last = n.includes('__') ? (n.split('__').at(-1) ?? n) : n;
  return BUILTIN_CLASSES[n] ?? BUILTIN_CLASSES[last] ?? 'other';
}

/**
 * JSON with object keys sorted at every level: the same value always gives the same text. Written
 * straight to text (issue 17: copying into sorted objects, then stringifying, cost about 1 µs of
 * every tool call), with the output of that copy: keys sorted by UTF-16 code units except that
 * array-index keys come first in numeric order (as an object built in sorted order lists them),
 * `__proto__` keys left out (assigning one changes a prototype), `toJSON` never called, bigints as
 * strings; a value seen twice (a cycle, or an object shared by two fields) throws a TypeError.
 */
export function canonicalJson(value: unknown): string {
  try {
    return writeJson(value, []) ?? 'null';
  } catch (e) {
    if (e !== COPY_NEEDED) throw e;
    return canonicalJsonByCopy(value);
  }
}

/**
 * Thrown by writeJson for a value of many objects, and for an object with a `toJSON` function among
 * its own keys (the copy made by `canonicalJsonByCopy` then has that method, and JSON.stringify
 * calls it; never from JSON data): canonicalJson then makes the copy.
 */
const COPY_NEEDED = new Error('canonicalJson: copy needed');

/** The definition canonicalJson's output follows: sorted copies, then JSON.stringify. */
function canonicalJsonByCopy(value: unknown): string {
  const seen = new WeakSet<object>();
  const walk = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return typeof v === 'bigint' ? v.toString() : v;
    if (seen.has(v)) throw new TypeError('circular structure');
    seen.add(v);
    if (Array.isArray(v)) return v.map(walk);
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = walk((v as Record<string, unknown>)[k]);
    return out;
  };
  return JSON.stringify(walk(value)) ?? 'null';
}

/** Objects writeJson tracks in a list; a value with more is written by copy (a WeakSet tracks them). */
const MAX_TRACKED = 32;

function markSeen(v: object, seen: object[]): void {
  if (seen.includes(v)) throw new TypeError('circular structure');
  if (seen.length >= MAX_TRACKED) throw COPY_NEEDED;
  seen.push(v);
}

/** An array index as an object key (0 … 2^32 − 2): such keys are listed first, by number. */
const isIndexKey = (k: string): boolean => /^(?:0|[1-9][0-9]*)$/.test(k) && Number(k) < 4294967295;

/** Characters JSON.stringify escapes in a string (and surrogates: lone ones are escaped). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A string as JSON text: quoted as is when nothing needs escaping (a call of JSON.stringify costs more). */
const quote = (s: string): string => (NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`);

/**
 * An object key as JSON text with its colon (`"k":`), and with a comma before it (`,"k":`),
 * remembered: the same few field names come back in every key, and each field is then one string
 * joined to the text instead of four.
 */
const fieldNames = new Map<string, readonly [string, string]>();
function fieldName(k: string, first: boolean): string {
  let q = fieldNames.get(k);
  if (q === undefined) {
    const name = `${quote(k)}:`;
    q = [name, `,${name}`];
    if (fieldNames.size < 1024 && k.length <= 64) fieldNames.set(k, q);
  }
  return first ? q[0] : q[1];
}

/**
 * An object's own enumerable keys in UTF-16 code unit order, as `Object.keys(v).sort()` gives them:
 * an insertion sort for the few fields of a call's key (cheaper than the generic sort's comparisons).
 */
function sortedKeys(v: object): string[] {
  const keys = Object.keys(v);
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i] as string;
    let j = i - 1;
    for (; j >= 0 && (keys[j] as string) > k; j--) keys[j + 1] = keys[j] as string;
    keys[j + 1] = k;
  }
  return keys;
}

/** The JSON of one value, or undefined where JSON.stringify leaves it out (undefined, functions, symbols). */
function writeJson(v: unknown, seen: object[]): string | undefined {
  switch (typeof v) {
    case 'string':
      return quote(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null'; // as JSON.stringify: -0 → 0, NaN → null
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return JSON.stringify(v.toString());
    case 'object':
      break;
    default:
      return undefined;
  }
  if (v === null) return 'null';
  markSeen(v, seen);
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out += ',';
      out += i in v ? (writeJson(v[i], seen) ?? 'null') : 'null';
    }
    return out + ']';
  }
  const keys = sortedKeys(v);
  let indexKeys: string[] | undefined;
  for (const k of keys) {
    const c = k.charCodeAt(0);
    if (c >= 48 && c <= 57 && isIndexKey(k)) (indexKeys ??= []).push(k);
  }
  let ordered = keys;
  if (indexKeys) {
    indexKeys.sort((a, b) => Number(a) - Number(b));
    ordered = indexKeys.concat(keys.filter((k) => !isIndexKey(k)));
  }
  let out = '{';
  let first = true;
  for (const k of ordered) {
    const field = (v as Record<string, unknown>)[k];
    if (k === 'toJSON' && typeof field === 'function') throw COPY_NEEDED;
    const text = writeJson(field, seen);
    if (text === undefined || k === '__proto__') continue;
    out += fieldName(k, first) + text;
    first = false;
  }
  return out + '}';
}

/** SHA-256 in hex. The one-shot `crypto.hash` costs a quarter of a `createHash` object on short text. */
export const sha256Hex = (text: string): string => hash('sha256', text, 'hex');

const PATH_KEYS = [
  'file_path',
  'path',
  'filePath',
  'notebook_path',
  'absolute_path',
  'dir_path',
  'directory',
];
const TARGET_KEYS = [...PATH_KEYS, 'url', 'command', 'cmd', 'pattern', 'query', 'q', 'glob'];
const COMMAND_KEYS = ['command', 'cmd'];

function normalizePath(p: string): string {
  const n = posix.normalize(p.replace(/\\/g, '/'));
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

const collapse = (s: string): string => s.trim().replace(/\s+/g, ' ');

/**
 * Normalizes tool arguments before hashing, so equal calls hash equal: paths normalized,
 * commands' whitespace collapsed; line ranges, offsets and limits are kept as they are.
 */
export function normalizeArgs(args: unknown): unknown {
  if (args === null || typeof args !== 'object' || Array.isArray(args))
    return typeof args === 'string' ? collapse(args) : args;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args as Record<string, unknown>)) {
    if (typeof v === 'string' && PATH_KEYS.includes(k)) out[k] = normalizePath(v);
    else if (typeof v === 'string' && COMMAND_KEYS.includes(k)) out[k] = collapse(v);
    else out[k] = v;
  }
  return out;
}

/** The thing a tool call acts on (path, URL, command, query), taken from its arguments. */
export function inferTarget(args: unknown): string | undefined {
  if (typeof args === 'string') return collapse(args);
  if (args === null || typeof args !== 'object') return undefined;
  const a = args as Record<string, unknown>;
  for (const k of TARGET_KEYS) {
    const v = a[k];
    if (typeof v === 'string' && v !== '')
      return PATH_KEYS.includes(k) ? normalizePath(v) : collapse(v);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return collapse(v.join(' '));
  }
  return undefined;
}

const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * Normalizes a target the harness names itself, the way `inferTarget` normalizes one taken from
 * the arguments, so both give the same hash: when the arguments hold the same value under a known
 * key, that key decides (path or text); otherwise a URL or anything with whitespace (a command, a
 * query) has its whitespace collapsed, and a single word is treated as a path.
 */
export function normalizeTarget(target: string, args?: unknown): string {
  if (args !== null && typeof args === 'object' && !Array.isArray(args)) {
    const a = args as Record<string, unknown>;
    for (const k of TARGET_KEYS)
      if (a[k] === target) return PATH_KEYS.includes(k) ? normalizePath(target) : collapse(target);
  }
  const t = target.trim();
  return URL_LIKE.test(t) || /\s/.test(t) || t === '' ? collapse(t) : normalizePath(t);
}

const TRANSIENT =
  /\b(ETIMEDOUT|ESOCKETTIMEDOUT|ECONNRESET|ECONNREFUSED|EAI_AGAIN|ENETUNREACH|EPIPE|socket hang up|timed? ?out|rate limit|too many requests|429|502|503|504|service unavailable|bad gateway|gateway time-?out)\b/i;

/**
 * Does a failure look transient (network timeouts and resets, rate limits, 502/503/504)? Only the
 * verdict leaves the harness, never the text. One retry of such a failure is not a loop.
 */
export function isTransientFailure(text: string): boolean {
  return TRANSIENT.test(text.slice(0, 2000));
}

/** A result as text: strings as they are, anything else as JSON. */
export function resultText(result: unknown): string {
  if (typeof result === 'string') return result;
  if (result === undefined) return '';
  if (Buffer.isBuffer(result)) return result.toString('utf8');
  return canonicalJson(result);
}

/** Rough token estimate of text entering a model's context: 4 bytes per token, rounded up. */
export const estimateTokens = (bytes: number): number => Math.ceil(bytes / 4);

const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0
    ? v
    : typeof v === 'string' && /^\d+$/.test(v)
      ? Number(v)
      : undefined;

/**
 * The line range a read covers, from common argument shapes: `offset` + `limit` (Claude Code's
 * Read, 1-based offset), `start_line`/`end_line`, `line_start`/`line_end`. Undefined: the whole target.
 */
export function readRange(args: unknown): { start: number; end?: number } | undefined {
  if (args === null || typeof args !== 'object') return undefined;
  const a = args as Record<string, unknown>;
  const offset = num(a.offset);
  const limit = num(a.limit);
  if (offset !== undefined || limit !== undefined) {
    const start = offset ?? 1;
    return limit === undefined ? { start } : { start, end: start + limit - 1 };
  }
  const start = num(a.start_line) ?? num(a.line_start) ?? num(a.startLine);
  const end = num(a.end_line) ?? num(a.line_end) ?? num(a.endLine);
  if (start === undefined && end === undefined) return undefined;
  return end === undefined ? { start: start ?? 1 } : { start: start ?? 1, end };
}

/**
 * Content hashes of an edit, for edit churn (an edit undone later): `old_string`/`new_string`
 * (Claude Code Edit), `old_str`/`new_str`, or a whole written `content` (after only).
 */
export function editHashes(args: unknown): { before?: string; after?: string } | undefined {
  if (args === null || typeof args !== 'object') return undefined;
  const a = args as Record<string, unknown>;
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
        : typeof a.content === 'string'
          ? a.content
          : undefined;
  if (before === undefined && after === undefined) return undefined;
  return {
    ...(before === undefined ? {} : { before: sha256Hex(before) }),
    ...(after === undefined ? {} : { after: sha256Hex(after) }),
  };
}
