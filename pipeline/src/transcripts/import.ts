/**
 * The I/O shell around the transcript parsers: find the files, read only what is new since the
 * last run (per file: size, mtime, byte offset and line number, plus the parser's small context),
 * send the spans on in batches, remember where each file stands. `watchTranscripts` repeats this
 * on a timer, keeping the parsers (and what they hold pending) between rounds.
 */
import { execFileSync } from 'node:child_process';
import {
  openSync,
  readSync,
  closeSync,
  readdirSync,
  statSync,
  renameSync,
  writeFileSync,
  readFileSync,
  mkdirSync,
} from 'node:fs';
import { dirname, join, sep } from 'node:path';
import type { RawSpanParts } from '../decode/traces.js';
import { PipelineError } from '../errors.js';
import { createClaudeCodeParser } from './claude-code.js';
import { createCodexParser } from './codex.js';
import { createGeminiParser } from './gemini.js';
import type {
  ParserStats,
  ResumePoint,
  TranscriptContext,
  TranscriptIssue,
  TranscriptParser,
  TranscriptSource,
} from './common.js';

/** Bounds of the shell, named once. */
export const IMPORT_DEFAULTS = {
  /** Bytes read from a file at a time (a line longer than this is assembled across reads). */
  chunkBytes: 4 * 1024 * 1024,
  /** Spans per send (one OTLP request or one sink write). */
  batchSpans: 5_000,
  /**
   * A file modified less than this long ago may still be written by its agent: what is pending at
   * its end (the last response, tool calls without a result) is held back until it settles.
   */
  settleMs: 60_000,
  /** --watch: how often files are looked at again. */
  watchIntervalMs: 2_000,
  /** Issues listed in a summary (all are counted). */
  maxIssues: 50,
} as const;

export interface ImportOptions {
  source: TranscriptSource;
  /** Folders (searched recursively) or single files. */
  paths: string[];
  /** JSON file remembering per file what was imported; undefined = remember nothing. */
  stateFile: string | undefined;
  /** Receives the spans, batch by batch (to a server's /v1/traces, or the span path on the folder). */
  send(spans: RawSpanParts[]): Promise<void>;
  /** The developer for every span ('' = unknown; the CLI passes --developer or git's user.email). */
  developer?: string;
  /** Keep tool arguments, redacted. @default false */
  captureContent?: boolean;
  /** @default IMPORT_DEFAULTS.settleMs */
  settleMs?: number;
  /** @default Date.now */
  now?: () => number;
  /** Repository URL of a working folder. @default its git origin remote, cached per folder */
  repoOf?: (cwd: string) => string | undefined;
  /**
   * Which of these sessions the store already has from the agent's OTLP events: their spans are
   * not sent (one session, one source). @default none
   */
  otlpSessions?: (sessions: string[]) => Promise<Set<string>>;
  /** Told how far a round is: after each chunk read and each file done. @default none */
  onProgress?: (progress: ImportProgress) => void;
}

/** How far an import round is: files looked at of those found, and new lines read so far. */
export interface ImportProgress {
  filesDone: number;
  filesTotal: number;
  lines: number;
}

export interface ImportSummary {
  source: TranscriptSource;
  files: number;
  /** Files untouched since the last run (not read). */
  unchanged: number;
  /** Files whose last entries were held back because the agent may still be writing them. */
  active: number;
  spans: number;
  /** Sessions left out because the store has them from OTLP events. */
  otlpSessions: string[];
  stats: ParserStats;
  /** The first malformed lines (all are counted in stats.malformed). */
  issues: TranscriptIssue[];
}

interface FileMark {
  size: number;
  mtimeMs: number;
  offset: number;
  line: number;
  parser: unknown;
}
interface StateFile {
  version: 1;
  files: Record<string, FileMark>;
}

const sessionOf = (s: RawSpanParts): string => s.spanAttributes['gen_ai.conversation.id'] ?? '';

function readState(path: string | undefined): StateFile {
  if (!path) return { version: 1, files: {} };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { version: 1, files: {} };
  }
  try {
    const v = JSON.parse(text) as Partial<StateFile>;
    if (v.version === 1 && typeof v.files === 'object' && v.files !== null)
      return { version: 1, files: v.files };
  } catch {
    // fall through
  }
  throw new PipelineError(
    'BAD_REQUEST',
    `The import state ${path} is not readable JSON: delete it to import everything again (spans already stored are not counted twice).`,
  );
}

function writeState(path: string | undefined, state: StateFile): void {
  if (!path) return;
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state));
  renameSync(tmp, path);
}

/**
 * Transcript files under the given paths in tree order: a session's file (`<id>.jsonl`) right
 * before the folder of its subagents (`<id>/…`), so a sidechain replay meets its parent message
 * while the parser still remembers it.
 */
export function listTranscriptFiles(source: TranscriptSource, paths: readonly string[]): string[] {
  const found: string[] = [];
  const wanted = (f: string): boolean =>
    source === 'gemini-cli'
      ? (f.endsWith('.jsonl') || f.endsWith('.json')) && f.includes(`${sep}chats${sep}`)
      : f.endsWith('.jsonl');
  const walk = (p: string): void => {
    let st;
    try {
      st = statSync(p);
    } catch {
      return;
    }
    if (st.isFile()) {
      if (wanted(p) || paths.includes(p)) found.push(p);
      return;
    }
    if (!st.isDirectory()) return;
    for (const e of readdirSync(p)) walk(join(p, e));
  };
  for (const p of paths) walk(p);
  const parts = (f: string): string[] => f.replace(/\.jsonl?$/, '').split(sep);
  const order = (a: string, b: string): number => {
    const x = parts(a);
    const y = parts(b);
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      const u = x[i] ?? '';
      const v = y[i] ?? '';
      if (u !== v) return u < v ? -1 : 1;
    }
    return x.length - y.length || (a < b ? -1 : a > b ? 1 : 0);
  };
  return [...new Set(found)].sort(order);
}

function gitOrigin(cwd: string): string | undefined {
  try {
    const url = execFileSync('git', ['-C', cwd, 'remote', 'get-url', 'origin'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5_000,
    }).trim();
    return url === '' ? undefined : url;
  } catch {
    return undefined;
  }
}

/** `git config user.email` of the machine, or '' (the developer of imported transcripts). */
export function gitUserEmail(): string {
  try {
    return execFileSync('git', ['config', 'user.email'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5_000,
    }).trim();
  } catch {
    return '';
  }
}

function createParser(source: TranscriptSource, ctx: TranscriptContext): TranscriptParser {
  if (source === 'claude-code') return createClaudeCodeParser(ctx);
  if (source === 'codex') return createCodexParser(ctx);
  return createGeminiParser(ctx);
}

/**
 * Reads `file` from `from` to its end, line by line, into the parser, calling `afterChunk` after
 * each chunk (so spans leave memory as the file is read). Returns where the last complete line
 * ends; a last line without its newline is left for next time unless `settled`.
 */
async function feedFile(
  parser: TranscriptParser,
  file: string,
  from: ResumePoint,
  size: number,
  settled: boolean,
  afterChunk: () => Promise<void>,
): Promise<ResumePoint> {
  const fd = openSync(file, 'r');
  try {
    let offset = from.offset;
    let line = from.line;
    let carry: Buffer | undefined;
    let carryStart = offset;
    const buf = Buffer.allocUnsafe(IMPORT_DEFAULTS.chunkBytes);
    let pos = offset;
    while (pos < size) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
      if (n <= 0) break;
      pos += n;
      let data = buf.subarray(0, n);
      const base = carry ? carryStart : pos - n;
      if (carry) {
        data = Buffer.concat([carry, data]);
        carry = undefined;
      }
      let start = 0;
      for (;;) {
        const nl = data.indexOf(10, start);
        if (nl < 0) break;
        line++;
        let end = nl;
        if (end > start && data[end - 1] === 13) end--;
        parser.line(data.toString('utf8', start, end), line, base + start);
        start = nl + 1;
      }
      offset = base + start;
      if (start < data.length) {
        carry = Buffer.from(data.subarray(start));
        carryStart = base + start;
      }
      await afterChunk();
    }
    if (carry && settled) {
      line++;
      parser.line(carry.toString('utf8'), line, carryStart);
      offset = carryStart + carry.length;
    }
    return { offset, line };
  } finally {
    closeSync(fd);
  }
}

/** What the parsers learn from outside the transcript: developer, git origins (cached), opt-ins. */
function contextOf(options: ImportOptions): TranscriptContext {
  const origins = new Map<string, string | undefined>();
  return {
    developer: options.developer ?? '',
    captureContent: options.captureContent ?? false,
    repoOf:
      options.repoOf ??
      ((cwd) => {
        if (!origins.has(cwd)) origins.set(cwd, gitOrigin(cwd));
        return origins.get(cwd);
      }),
  };
}

/** One import round over `paths`: new lines since the last run, sent in batches; state saved. */
export async function importTranscripts(
  options: ImportOptions,
  parser?: TranscriptParser,
  positions?: Map<string, ResumePoint>,
): Promise<ImportSummary> {
  const p = parser ?? createParser(options.source, contextOf(options));
  const settleMs = options.settleMs ?? IMPORT_DEFAULTS.settleMs;
  const now = (options.now ?? Date.now)();
  const state = readState(options.stateFile);
  const before = { ...p.stats }; // a watching parser's counts run on: this round reports its part
  const summary: ImportSummary = {
    source: options.source,
    files: 0,
    unchanged: 0,
    active: 0,
    spans: 0,
    otlpSessions: [],
    stats: { ...p.stats },
    issues: [],
  };
  let batch: RawSpanParts[] = [];
  const known = new Map<string, boolean>(); // session → has OTLP spans
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    let b = batch;
    batch = [];
    if (options.otlpSessions) {
      const ask = [...new Set(b.map(sessionOf))].filter((s) => s !== '' && !known.has(s));
      for (let i = 0; i < ask.length; i += 100) {
        const chunk = ask.slice(i, i + 100);
        const found = await options.otlpSessions(chunk);
        for (const s of chunk) {
          known.set(s, found.has(s));
          if (found.has(s)) summary.otlpSessions.push(s);
        }
      }
      b = b.filter((s) => known.get(sessionOf(s)) !== true);
    }
    summary.spans += b.length;
    if (b.length > 0) await options.send(b);
  };
  /** Moves what the parser emitted into batches (sent when full) and its issues into the summary. */
  const progress = (): void =>
    options.onProgress?.({
      filesDone: summary.files,
      filesTotal: files.length,
      lines: p.stats.lines - before.lines,
    });
  const drain = async (): Promise<void> => {
    progress();
    for (const s of p.take()) {
      batch.push(s);
      if (batch.length >= IMPORT_DEFAULTS.batchSpans) await flush();
    }
    for (const i of p.takeIssues())
      if (summary.issues.length < IMPORT_DEFAULTS.maxIssues) summary.issues.push(i);
  };
  const files = listTranscriptFiles(options.source, options.paths);
  for (const file of files) {
    let st;
    try {
      st = statSync(file);
    } catch {
      continue; // gone since listed
    }
    const key = `${options.source}:${file}`;
    const mark = state.files[key];
    const whole = file.endsWith('.json'); // Gemini's older format: one document, read whole
    const settled = settleMs <= 0 || now - st.mtimeMs >= settleMs;
    // In --watch, the parser kept its place (and what is pending); otherwise resume from the mark.
    const live = positions?.get(key);
    let from: ResumePoint = live ?? { offset: 0, line: 0 };
    if (!live && mark && !whole && mark.offset <= st.size)
      from = { offset: mark.offset, line: mark.line };
    if (
      mark &&
      mark.size === st.size &&
      mark.mtimeMs === st.mtimeMs &&
      (live ? live.offset >= st.size : mark.offset >= st.size || whole)
    ) {
      summary.files++;
      summary.unchanged++;
      progress();
      continue;
    }
    if (live && live.offset > st.size) from = { offset: 0, line: 0 }; // rewritten
    p.beginFile(file, live ? undefined : mark?.parser);
    let end: ResumePoint;
    if (whole) {
      p.line(readFileSync(file, 'utf8'), 1, 0);
      end = { offset: st.size, line: 1 };
    } else end = await feedFile(p, file, from, st.size, settled, drain);
    const resume = p.endFile(end, settled);
    if (!settled && resume.offset < end.offset) summary.active++;
    positions?.set(key, end);
    state.files[key] = {
      size: st.size,
      mtimeMs: st.mtimeMs,
      offset: whole ? 0 : resume.offset,
      line: whole ? 0 : resume.line,
      parser: p.fileState(),
    };
    // A file with held-back entries is looked at again next time even if it does not change.
    if (resume.offset < end.offset) state.files[key].mtimeMs = -1;
    summary.files++;
    await drain();
    await flush();
    writeState(options.stateFile, state);
  }
  await flush();
  writeState(options.stateFile, state);
  for (const k of Object.keys(before) as (keyof ParserStats)[])
    summary.stats[k] = p.stats[k] - before[k];
  return summary;
}

/**
 * `--watch`: imports, then looks again every `intervalMs` and imports what agents wrote since,
 * until `signal` aborts. The parsers stay alive between rounds, so a response written over
 * several rounds is counted once, with its final usage, once it is complete or settled.
 */
export async function watchTranscripts(
  options: ImportOptions,
  onRound: (summary: ImportSummary) => void,
  signal: AbortSignal,
  intervalMs: number = IMPORT_DEFAULTS.watchIntervalMs,
): Promise<void> {
  const parser = createParser(options.source, contextOf(options));
  const positions = new Map<string, ResumePoint>();
  while (!signal.aborted) {
    onRound(await importTranscripts(options, parser, positions));
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, intervalMs);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    });
  }
}
