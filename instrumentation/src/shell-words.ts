/** Shell words: paths and operands, shared by the shell model and its scopes. */
import { posix } from 'node:path';

/** What posix.normalize would change: backslashes, `//`, a trailing `/`, `.` and `..` segments. */
const UNCLEAN = /\\|\/\/|\/$|(?:^|\/)\.{1,2}(?:\/|$)/;

/** A path resolved against a working directory, normalized (no trailing slash). */
export function resolve(cwd: string, p: string): string {
  // most paths are already normal: no normalize and join to run (issue 17)
  if (p !== '' && !UNCLEAN.test(p)) {
    if (!cwd || p.startsWith('/') || p.startsWith('~')) return p;
    if (!UNCLEAN.test(cwd)) return `${cwd}/${p}`;
  }
  const n = posix.normalize(p.replace(/\\/g, '/'));
  const abs = cwd && !n.startsWith('/') && !n.startsWith('~') ? posix.join(cwd, n) : n;
  return abs.length > 1 && abs.endsWith('/') ? abs.slice(0, -1) : abs;
}

/** Operands (non-flag words after the command), skipping values of options that take one. */
export function operands(argv: string[], valued: readonly string[] = []): string[] {
  const out: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') {
      out.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('-') && a.length > 1) {
      if (valued.includes(a)) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}
