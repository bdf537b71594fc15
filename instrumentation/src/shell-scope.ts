/**
 * What a read-only shell command's result depends on (`ShellAnalysis.scope`): the contents or the
 * names under a path, the git history, or the installed tools. A write changes only the scopes it
 * falls in (see `writeTouches` in tool-schemas.ts and the rules' `SCOPED_TOUCH`).
 */
import { posix } from 'node:path';
import type { ShellAnalysis, ShellCommand } from './shell.js';
import { operands, resolve } from './shell-words.js';

/** `find` tests that take a value and match names or kinds only. */
const FIND_VALUED = new Set([
  '-name',
  '-iname',
  '-path',
  '-ipath',
  '-wholename',
  '-type',
  '-maxdepth',
  '-mindepth',
]);
/** Names-only `find` tests: they match file names and kinds, never contents, sizes or times. */
const FIND_NAME_TESTS = new Set([
  ...FIND_VALUED,
  ...['-not', '!', '-o', '-or', '-a', '-and', '(', ')', '-prune', '-print', '-print0'],
]);
const GIT_HISTORY = new Set([
  'log',
  'show',
  'shortlog',
  'reflog',
  'rev-parse',
  'describe',
  'tag',
  'branch',
  'remote',
  'config',
]);
const ENV_QUERIES = new Set(['which', 'type', 'whoami', 'uname', 'env', 'printenv']);

/**
 * What a read-only command's result depends on (see `ShellAnalysis.scope`), or undefined when not
 * knowable: then any write may change it.
 */
export function scopeOf(c: ShellCommand, read: ShellAnalysis['read']): string | undefined {
  const name = posix.basename(c.argv[0] ?? '');
  const args = c.argv.slice(1);
  if (args.length === 1 && /^(--version|-V|-v|version)$/.test(args[0] ?? '')) return 'env:';
  if (ENV_QUERIES.has(name)) return 'env:';
  if (name === 'git') {
    const sub = args[0] ?? '';
    if (GIT_HISTORY.has(sub)) return `history:${c.cwd}`;
    if (sub === 'blame') {
      const file = operands(c.argv.slice(1), ['-L']).at(-1);
      return file === undefined ? undefined : `content:${resolve(c.cwd, file)}`;
    }
    // (status and diff show the whole repository, whose root is not known here: any write)
    if (sub === 'grep') return `content:${c.cwd}`;
    if (sub === 'ls-files') return `names:${c.cwd}`;
    return undefined;
  }
  if (c.effect === 'read' || read) {
    const paths = read?.paths ?? [];
    return paths.length === 1 ? `content:${paths[0] ?? ''}` : undefined;
  }
  if (name === 'ls' || name === 'tree') {
    const flags = args.filter((a) => a.startsWith('-')).join('');
    const ops = args.filter((a) => !a.startsWith('-'));
    if (ops.length > 1) return undefined;
    // -l, -s, -t, -S show or sort by sizes and times: a content change shows
    const kind = /[lstSDhu]/.test(flags.replace(/^-+/, '')) ? 'content' : 'names';
    return `${kind}:${resolve(c.cwd, ops[0] ?? '.')}`;
  }
  if (name === 'find' || name === 'fd') {
    const roots: string[] = [];
    let namesOnly = true;
    if (name === 'find') {
      let k = 0;
      while (k < args.length && !/^[-!(]/.test(args[k] ?? '')) roots.push(args[k++] ?? '');
      for (; k < args.length; k++) {
        const a = args[k] ?? '';
        if (!FIND_NAME_TESTS.has(a)) namesOnly = false;
        if (FIND_VALUED.has(a)) k++;
      }
    } else {
      const ops = operands(c.argv, ['-e', '--extension', '-t', '--type', '-d', '--max-depth']);
      if (ops[1] !== undefined) roots.push(ops[1]);
      if (args.some((a) => /^(-S|--size|--changed|-c)/.test(a))) namesOnly = false;
    }
    if (roots.length > 1) return undefined;
    return `${namesOnly ? 'names' : 'content'}:${resolve(c.cwd, roots[0] ?? '.')}`;
  }
  if (['grep', 'egrep', 'rg', 'ag', 'ack'].includes(name)) {
    if (name === 'rg' && args.includes('--files')) {
      // `rg --files` lists names (`-l` still depends on contents)
      const ops = operands(c.argv, ['-g', '--glob', '-t', '--type']);
      return ops.length <= 1 ? `names:${resolve(c.cwd, ops[0] ?? '.')}` : undefined;
    }
    const explicit = args.some((a) => a === '-e' || a === '--regexp' || a === '-f');
    const ops = operands(c.argv, [
      '-e',
      '--regexp',
      '-f',
      '-g',
      '--glob',
      '-t',
      '--type',
      '-T',
      '--type-not',
      '-A',
      '-B',
      '-C',
      '-m',
      '--max-count',
      '--include',
      '--exclude',
      '--exclude-dir',
      '-M',
      '--max-columns',
    ]);
    const paths = explicit ? ops : ops.slice(1);
    if (paths.length > 1) return undefined;
    return `content:${resolve(c.cwd, paths[0] ?? '.')}`;
  }
  if (['wc', 'stat', 'du', 'file'].includes(name)) {
    const ops = operands(c.argv);
    return ops.length === 1 ? `content:${resolve(c.cwd, ops[0] ?? '.')}` : undefined;
  }
  return undefined;
}
