/**
 * A model of the shell commands agents run, for the redundancy rules: what a command reads,
 * searches, lists or queries (nothing changes), runs (tests, builds: nothing in the sources
 * changes), or mutates (and which files, when that is knowable). Commands are parsed into words and
 * operators, never matched as whole strings: chains (`&&`, `;`, `||`), pipelines, `cd` prefixes,
 * `bash -lc "…"` wrappers, redirections and argv arrays.
 *
 * The parser is pluggable: the pipeline passes `shell-quote`'s `parse`; the SDK, which depends on
 * OpenTelemetry packages only, uses `tokenizeShell` (shell-lexer.ts), a small lexer that produces
 * the same token shapes (a conformance test runs both over every shell form of the corpus).
 */
import { posix } from 'node:path';
import {
  GIT_KEEPS_CONTENT,
  INTERPRETERS,
  LAUNCHERS,
  MUTATING_SCRIPT_FILE,
  MUTATING_SCRIPTS,
  SCRIPT_RUNNERS,
  SHELL_COMMANDS,
  SHELLS,
  type ShellEffect,
  type ShellRule,
} from './shell-commands.js';
import { scopeOf } from './shell-scope.js';
import { operands, resolve } from './shell-words.js';
import { tokenizeShell, type ShellParser, type ShellToken } from './shell-lexer.js';

export { SHELL_COMMANDS } from './shell-commands.js';
export type { ShellEffect, ShellRule } from './shell-commands.js';

export { tokenizeShell } from './shell-lexer.js';
export type { ShellParser, ShellToken } from './shell-lexer.js';

const FILTERS = ['head', 'tail', 'sed', 'grep', 'wc', 'sort', 'uniq', 'cut', 'awk', 'tr', 'less'];

/** One simple command, resolved: its words, its working directory, what it does. */
export interface ShellCommand {
  argv: string[];
  cwd: string;
  effect: ShellEffect;
  /** Files written by redirections or operands (resolved), when knowable. */
  writes: string[];
  /** Redirection targets that are files (`> out.txt`). */
  redirects: string[];
  /** The later stages of its pipeline (`| head -40`, `| wc -l`): they change what is shown. */
  pipe?: string[][];
}

/** The classification of a whole command line. */
export interface ShellAnalysis {
  /** The command's overall effect: the strongest of its parts (mutate > run > the rest). */
  effect: ShellEffect;
  commands: ShellCommand[];
  /** For a mutation: the files it can touch, or undefined when unknowable (then: anything). */
  touches?: string[];
  /**
   * Of `touches`, the files it may create or delete (`> f`, `touch`, `rm`, `mv`, `cp`), which
   * changes directory listings; the others only change content (`>> f`, `sed -i`, formatters).
   */
  creates?: string[];
  /**
   * For reads, searches, listings and queries: what their result depends on, when knowable —
   * `content:<path>` (file contents under path), `names:<path>` (which files exist under path),
   * `history:<dir>` (the git history: commits, not the working tree), `env:` (the installed tools).
   */
  scope?: string;
  /** For a read: the file and line range (inclusive; end undefined = to the end; start -1 = a tail). */
  read?: { paths: string[]; start: number; end?: number };
  /** A stable key of what was asked, for hashing (words normalized, paths resolved). */
  key: unknown;
  /** The working directory after the command (`cd` moves it; matters where the shell persists). */
  cwd: string;
}

const word = (t: ShellToken): string | undefined =>
  typeof t === 'string' ? t : 'op' in t && t.op === 'glob' ? t.pattern : undefined;

interface Stage {
  words: string[];
  redirects: string[];
  /** The redirection targets appended to (`>>`): their content changes, they are not created. */
  appends?: string[];
}

/** Splits tokens into sequential segments, each a pipeline of stages. */
function segments(tokens: readonly ShellToken[]): { unknown: boolean; list: Stage[][] } {
  const list: Stage[][] = [];
  let pipeline: Stage[] = [];
  let stage: Stage = { words: [], redirects: [] };
  let unknown = false;
  const endStage = (): void => {
    if (stage.words.length > 0 || stage.redirects.length > 0) pipeline.push(stage);
    stage = { words: [], redirects: [] };
  };
  const endSegment = (): void => {
    endStage();
    if (pipeline.length > 0) list.push(pipeline);
    pipeline = [];
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === undefined) continue;
    if (typeof t !== 'string' && 'comment' in t) continue;
    const w = word(t);
    if (w !== undefined) {
      stage.words.push(w);
      continue;
    }
    const op = (t as { op: string }).op;
    if (op === '|' || op === '|&') endStage();
    else if (op === '&&' || op === '||' || op === ';' || op === '&' || op === ';;') endSegment();
    else if (op === '>' || op === '>>') {
      const target = tokens[i + 1];
      const tw = target === undefined ? undefined : word(target);
      if (tw !== undefined) {
        i++;
        // `2> file` leaves the fd number as the previous word
        if (/^\d$/.test(stage.words.at(-1) ?? '')) stage.words.pop();
        if (tw !== '/dev/null') {
          stage.redirects.push(tw);
          if (op === '>>') (stage.appends ??= []).push(tw);
        }
      }
    } else if (op === '>&') {
      if (/^\d$/.test(stage.words.at(-1) ?? '')) stage.words.pop();
      i++; // `2>&1`: a descriptor, not a file
    } else if (op === '<') i++;
    else unknown = true; // subshells, process substitution
  }
  endSegment();
  return { unknown, list };
}

/** The effect of one simple command from the table. */
function effectOf(argv: string[], table: Readonly<Record<string, ShellRule>>): ShellEffect {
  const name = posix.basename(argv[0] ?? '');
  const rule = table[argv[0] ?? ''] ?? table[name];
  // `rustc --version`, `go version`: asking any tool its version changes nothing.
  if (argv.length === 2 && /^(--version|-V|-v|version)$/.test(argv[1] ?? '')) return 'query';
  if (!rule) return 'mutate';
  const args = argv.slice(1);
  const has = (flags: readonly string[] | undefined): boolean =>
    !!flags?.some((f) =>
      args.some(
        (a) =>
          a === f ||
          (f.startsWith('--') && a.startsWith(`${f}=`)) ||
          (f === '-i' && /^-i\S*$/.test(a)),
      ),
    );
  if (has(rule.mutatingFlags)) return 'mutate';
  if (has(rule.checkFlags)) return 'run';
  const first = args.find((a) => !a.startsWith('-'));
  if (
    rule.effect === 'run' &&
    INTERPRETERS.has(name) &&
    first !== undefined &&
    /\.\w+$/.test(first) &&
    MUTATING_SCRIPT_FILE.test(posix.basename(first))
  )
    return 'mutate';
  if (SCRIPT_RUNNERS.has(name) && first === 'run') {
    const script = args[args.indexOf('run') + 1] ?? '';
    return MUTATING_SCRIPTS.test(script) ? 'mutate' : 'run';
  }
  if (rule.sub && first !== undefined) return rule.sub[first] ?? rule.effect;
  return rule.effect;
}

/** `sed -n '10,40p' f`, `head -n 30 f`, `tail f`: the file(s) and range a read covers. */
function readOf(argv: string[], cwd: string): ShellAnalysis['read'] {
  const name = posix.basename(argv[0] ?? '');
  if (name === 'sed') {
    const ops = operands(argv, ['-e']);
    const script = argv.includes('-n') ? ops[0] : undefined;
    const m = script === undefined ? undefined : /^(\d+)(?:,(\d+))?p$/.exec(script);
    if (!m) return undefined;
    const files = ops.slice(1);
    const start = Number(m[1]);
    return { paths: files.map((f) => resolve(cwd, f)), start, end: Number(m[2] ?? m[1]) };
  }
  if (name === 'head' || name === 'tail') {
    let n = 10;
    const files: string[] = [];
    for (let i = 1; i < argv.length; i++) {
      const a = argv[i] ?? '';
      if (a === '-n' || a === '--lines') n = Number(argv[++i] ?? 10);
      else if (/^-n\d+$/.test(a) || /^-\d+$/.test(a)) n = Number(a.replace(/^-n?/, ''));
      else if (a.startsWith('--lines=')) n = Number(a.slice(8));
      else if (!a.startsWith('-')) files.push(a);
    }
    const paths = files.map((f) => resolve(cwd, f));
    return name === 'head' ? { paths, start: 1, end: n } : { paths, start: -1, end: -1 };
  }
  const files = operands(argv, name === 'nl' ? ['-b', '-w', '-s'] : []).filter((f) => f !== '-');
  return { paths: files.map((f) => resolve(cwd, f)), start: 1 };
}

/** A filter stage applied to a read (`| sed -n '20,60p'`, `| head -80`): the range it keeps. */
function narrow(
  read: NonNullable<ShellAnalysis['read']>,
  argv: string[],
): ShellAnalysis['read'] | 'other' {
  const name = posix.basename(argv[0] ?? '');
  if (
    (name === 'sed' || name === 'head' || name === 'tail') &&
    operands(argv, ['-e', '-n']).length <= (name === 'sed' ? 1 : 0)
  ) {
    const r = readOf([...argv], '');
    if (!r) return 'other';
    if (r.start === -1) return { ...read, start: -1, end: -1 };
    const base = read.start === -1 ? undefined : read.start;
    if (base === undefined) return 'other';
    const start = base + r.start - 1;
    const end = r.end === undefined ? read.end : base + r.end - 1;
    return {
      paths: read.paths,
      start,
      ...(end === undefined ? {} : { end: read.end === undefined ? end : Math.min(end, read.end) }),
    };
  }
  if (name === 'less' || name === 'more' || name === 'cat') return read;
  return 'other';
}

const RANK: Record<ShellEffect, number> = {
  query: 0,
  list: 1,
  search: 2,
  read: 3,
  run: 4,
  mutate: 5,
};

/**
 * Classifies a command line (a string, or an argv array as Codex sends it) run in `cwd`.
 * `parse` defaults to the built-in lexer; `table` to `SHELL_COMMANDS`.
 */
export function analyzeShell(
  command: string | readonly string[],
  cwd = '',
  parse: ShellParser = tokenizeShell,
  table: Readonly<Record<string, ShellRule>> = SHELL_COMMANDS,
  depth = 0,
): ShellAnalysis {
  // argv arrays: `["bash", "-lc", "…"]` is the script; anything else is one command as given.
  if (typeof command !== 'string') {
    const argv = [...command];
    const sh = posix.basename(argv[0] ?? '');
    const flag = argv[1] ?? '';
    if (SHELLS.has(sh) && /^-\w*c\w*$/.test(flag) && typeof argv[2] === 'string')
      return analyzeShell(argv[2], cwd, parse, table, depth + 1);
    return analyzeStages(
      { unknown: false, list: [[{ words: argv, redirects: [] }]] },
      cwd,
      parse,
      table,
      depth,
    );
  }
  let tokens: readonly ShellToken[];
  try {
    tokens = parse(command);
  } catch {
    return { effect: 'mutate', commands: [], key: { sh: command.trim() }, cwd };
  }
  if (/\$\(|`/.test(command))
    return {
      effect: 'mutate',
      commands: [],
      key: { sh: command.trim().replace(/\s+/g, ' '), cwd },
      cwd,
    };
  return analyzeStages(segments(tokens), cwd, parse, table, depth);
}

function analyzeStages(
  parsed: { unknown: boolean; list: Stage[][] },
  startCwd: string,
  parse: ShellParser,
  table: Readonly<Record<string, ShellRule>>,
  depth: number,
): ShellAnalysis {
  let cwd = startCwd;
  const commands: ShellCommand[] = [];
  let effect = 'query' as ShellEffect;
  let touches: string[] | undefined = [];
  const creates: string[] = [];
  let read: ShellAnalysis['read'];
  let reads = 0;
  const keys: unknown[] = [];
  const raise = (e: ShellEffect): void => {
    if (RANK[e] > RANK[effect]) effect = e;
  };
  if (parsed.unknown) {
    raise('mutate');
    touches = undefined;
  }
  for (const pipeline of parsed.list) {
    const first = pipeline[0];
    if (!first) continue;
    let argv = stripPrefix(first.words);
    const name = posix.basename(argv[0] ?? '');
    if (name === 'cd' && pipeline.length === 1) {
      cwd = resolve(cwd, argv[1] ?? '~');
      continue;
    }
    // Nested shells: `bash -c "…"` inside a chain.
    if (
      SHELLS.has(name) &&
      /^-\w*c\w*$/.test(argv[1] ?? '') &&
      argv[2] !== undefined &&
      depth < 3
    ) {
      const inner = analyzeShell(argv[2], cwd, parse, table, depth + 1);
      commands.push(...inner.commands);
      raise(inner.effect);
      if (inner.effect === 'mutate')
        touches = touches && inner.touches ? [...touches, ...inner.touches] : undefined;
      creates.push(...(inner.creates ?? []));
      if (inner.read) {
        read = inner.read;
        reads++;
      }
      keys.push(inner.key);
      continue;
    }
    for (
      let launched = LAUNCHERS[name]?.(argv.slice(1));
      launched && launched.length > 0 && launched[0] !== argv[0];
    ) {
      const inner = posix.basename(launched[0] ?? '');
      if (!table[inner] && !table[launched[0] ?? '']) break;
      argv = launched;
      launched = LAUNCHERS[inner]?.(argv.slice(1));
    }
    let e = effectOf(argv, table);
    const redirects = pipeline.flatMap((s) => s.redirects.map((r) => resolve(cwd, r)));
    const appends = new Set(pipeline.flatMap((s) => (s.appends ?? []).map((r) => resolve(cwd, r))));
    // Files this command may create or delete: `> f`, and the operands of rm/mv/cp/touch/tee.
    const made = redirects.filter((r) => !appends.has(r));
    let stageRead: ShellAnalysis['read'];
    if (e === 'read') {
      stageRead = readOf(argv, cwd);
      if (!stageRead || stageRead.paths.length === 0) e = 'query';
    }
    const rule = table[argv[0] ?? ''] ?? table[posix.basename(argv[0] ?? '')];
    let writes: string[] | undefined = [...redirects];
    if (e === 'mutate') {
      if (rule?.keepsContent) writes = [...redirects];
      else if (name === 'git' && GIT_KEEPS_CONTENT.includes(argv[1] ?? '')) writes = [...redirects];
      else if (rule?.writesLast) {
        const last = operands(argv).at(-1);
        if (last !== undefined) writes.push(resolve(cwd, last));
        if (last !== undefined) made.push(resolve(cwd, last));
      } else if (rule?.writesOperands) {
        const files = operands(argv, ['-e'])
          .slice(name === 'sed' ? 1 : 0)
          .map((f) => resolve(cwd, f));
        writes.push(...files);
        // (`sed -i.bak` also leaves a backup file next to each)
        if (!rule.inPlace || argv.some((x) => /^(-i.+|--in-place=.+)$/.test(x)))
          made.push(...files);
        // `mv a b`: a disappears, b appears
      } else if (
        posix.basename(argv[0] ?? '') === 'git' &&
        ['checkout', 'restore'].includes(argv[1] ?? '') &&
        argv.includes('--')
      )
        writes.push(...argv.slice(argv.indexOf('--') + 1).map((f) => resolve(cwd, f)));
      else writes = undefined;
      if (writes && posix.basename(argv[0] ?? '') === 'git') made.push(...writes);
    }
    // The rest of the pipeline: filters narrow a read; anything else makes it a query of its own.
    const pipe: string[][] = [];
    for (const s of pipeline.slice(1)) {
      const sArgv = stripPrefix(s.words);
      pipe.push(sArgv);
      const sName = posix.basename(sArgv[0] ?? '');
      const se = effectOf(sArgv, table);
      if (se === 'mutate' || se === 'run') {
        if (sName === 'tee') {
          const files = operands(sArgv).map((f) => resolve(cwd, f));
          writes = writes ? [...writes, ...files] : undefined;
          if (!sArgv.includes('-a') && !sArgv.includes('--append')) made.push(...files);
        } else writes = undefined;
        e = 'mutate';
      } else if (stageRead && FILTERS.includes(sName)) {
        const n = narrow(stageRead, sArgv);
        if (n === 'other') {
          stageRead = undefined;
          if (e === 'read') e = 'search';
        } else stageRead = n;
      } else if (!FILTERS.includes(sName) && se !== 'query') raise('query');
    }
    if (redirects.length > 0 && e !== 'mutate') {
      e = 'mutate';
    }
    if (e === 'read' && stageRead) {
      read = stageRead;
      reads++;
    }
    raise(e);
    if (e === 'mutate') {
      touches = touches && writes ? [...touches, ...writes] : undefined;
      creates.push(...made);
    }
    commands.push({
      argv,
      cwd,
      effect: e,
      writes: writes ?? [],
      redirects,
      ...(pipe.length > 0 ? { pipe } : {}),
    });
    // `rg x | head -40` and `rg x | wc -l` show different things: the filters are part of the key.
    keys.push(
      pipe.length > 0
        ? { argv: normalizeArgv(argv, e), cwd, pipe }
        : { argv: normalizeArgv(argv, e), cwd },
    );
  }
  const result: ShellAnalysis = {
    effect,
    commands,
    key: keys.length === 1 ? keys[0] : keys,
    cwd,
  };
  if (effect === 'mutate') {
    if (touches) result.touches = touches;
    if (touches && creates.length > 0) result.creates = [...new Set(creates)];
  } else if (effect === 'read' && reads === 1 && read) result.read = read;
  else if (effect === 'read') effect = 'search';
  result.effect = effect;
  if (effect !== 'mutate' && effect !== 'run' && commands.length === 1 && commands[0]) {
    const scope = scopeOf(commands[0], read);
    if (scope) result.scope = scope;
  }
  return result;
}

/** Drops environment assignments (`FOO=1 cmd`) in front of a command. */
function stripPrefix(words: string[]): string[] {
  let i = 0;
  while (i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i] ?? '')) i++;
  return words.slice(i);
}

/** Output-formatting flags: they do not change what is found. */
const COSMETIC: ReadonlySet<string> = new Set([
  '--color',
  '--color=always',
  '--color=never',
  '--no-pager',
  '--no-heading',
]);

/** Words of a command as a key: output-formatting flags that do not change what is found dropped. */
function normalizeArgv(argv: string[], effect: ShellEffect): string[] {
  const name = posix.basename(argv[0] ?? '');
  let words = argv.filter((a) => !COSMETIC.has(a));
  if (effect === 'search' || effect === 'list') {
    // `-n` / `--line-number` and `-a`/`-l`-style listing details do not change what is found
    words = words.filter((a) => a !== '-n' && a !== '--line-number');
    if (name === 'ls') words = [name, ...operands(words).map((p) => p.replace(/\/+$/, '') || '.')];
  }
  return words;
}
