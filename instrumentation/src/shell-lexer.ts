/**
 * The SDK's shell lexer (split from shell.ts by subject): words and control operators as
 * `shell-quote`'s `parse` gives them, without expansion.
 */
/** A token as `shell-quote`'s `parse` returns it. */
export type ShellToken = string | { op: string; pattern?: string } | { comment: string };
/** A shell parser: `shell-quote`'s `parse` (with an env function that keeps `$VAR` as is) fits. */
export type ShellParser = (command: string) => readonly ShellToken[];

/**
 * Characters that end a plain run of a word (quotes, escapes, blanks, comments, operators, globs),
 * by char code; every other character (any code >= 128 too) is copied as a slice of its run.
 */
const SPECIAL = new Uint8Array(128);
for (const ch of '\\\'" \t\n#&|;<>()*?') SPECIAL[ch.charCodeAt(0)] = 1;

/** The control operator at `i` (the longest of `&&`, `||`, `;;`, `|&`, `>>`, `>&`, `<(`, or one character), if any. */
function operatorAt(command: string, i: number): string | undefined {
  const ch = command[i];
  const next = command[i + 1];
  switch (ch) {
    case '&':
      return next === '&' ? '&&' : '&';
    case '|':
      return next === '|' ? '||' : next === '&' ? '|&' : '|';
    case ';':
      return next === ';' ? ';;' : ';';
    case '>':
      return next === '>' ? '>>' : next === '&' ? '>&' : '>';
    case '<':
      return next === '(' ? '<(' : '<';
    case '(':
    case ')':
      return ch;
    default:
      return undefined;
  }
}

/**
 * A quote-aware lexer for POSIX shell words and control operators (no expansion: `$VAR` stays as
 * written; unquoted words with `*`, `?` become `{ op: 'glob', pattern }` as in shell-quote).
 * Plain runs are copied as slices, not character by character (issue 17: the per-character
 * operator search was half of describing a Bash call).
 */
export function tokenizeShell(command: string): ShellToken[] {
  const out: ShellToken[] = [];
  const n = command.length;
  let word = '';
  let inWord = false;
  let globbed = false;
  const flush = (): void => {
    if (inWord) out.push(globbed ? { op: 'glob', pattern: word } : word);
    word = '';
    inWord = false;
    globbed = false;
  };
  for (let i = 0; i < n; i++) {
    const code = command.charCodeAt(i);
    if (code >= 128 || SPECIAL[code] === 0) {
      let j = i + 1;
      while (j < n) {
        const c = command.charCodeAt(j);
        if (c < 128 && SPECIAL[c] === 1) break;
        j++;
      }
      word += command.slice(i, j);
      inWord = true;
      i = j - 1;
      continue;
    }
    const ch = command[i] ?? '';
    if (ch === '\\') {
      const next = command[i + 1];
      if (next === '\n') i++;
      else if (next !== undefined) {
        word += next;
        inWord = true;
        i++;
      }
      continue;
    }
    if (ch === "'") {
      const end = command.indexOf("'", i + 1);
      const stop = end < 0 ? n : end;
      word += command.slice(i + 1, stop);
      inWord = true;
      i = stop;
      continue;
    }
    if (ch === '"') {
      inWord = true;
      let j = i + 1;
      let from = j;
      for (; j < n && command[j] !== '"'; j++) {
        // inside double quotes a backslash escapes only `"`, `\`, `$` and a backquote
        if (command[j] === '\\' && /["\\$`]/.test(command[j + 1] ?? '')) {
          word += command.slice(from, j) + (command[j + 1] ?? '');
          j++;
          from = j + 1;
        }
      }
      word += command.slice(from, Math.min(j, n));
      i = j;
      continue;
    }
    if (ch === '#') {
      if (inWord) {
        word += ch;
        continue;
      }
      const end = command.indexOf('\n', i);
      const stop = end < 0 ? n : end;
      out.push({ comment: command.slice(i + 1, stop) });
      i = stop - 1;
      continue;
    }
    if (ch === ' ' || ch === '\t') {
      flush();
      continue;
    }
    if (ch === '\n') {
      flush();
      out.push({ op: ';' });
      continue;
    }
    const op = operatorAt(command, i);
    if (op) {
      flush();
      out.push({ op });
      i += op.length - 1;
      continue;
    }
    // `*` or `?`
    globbed = true;
    word += ch;
    inWord = true;
  }
  flush();
  return out;
}
