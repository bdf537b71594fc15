import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { PipelineError } from '../errors.js';

/**
 * `git blame --porcelain from..commit -- file` through one long-lived shell. Forking git from this
 * process costs tens of milliseconds on a loaded machine (Node forks its whole address space, the
 * chDB library included); the small shell forks it in about one. One request at a time, in order.
 */
export interface Blamer {
  /** For each line of `file` at `commit`, the commit that wrote it (within `from..commit`). */
  blame(from: string, commit: string, file: string): Promise<Map<number, string>>;
  close(): void;
}

// Reads three lines per request; answers blame's output, then \x1d and git's exit status.
const LOOP = `while IFS= read -r from && IFS= read -r commit && IFS= read -r file; do
  git -C "$1" blame --porcelain "$from..$commit" -- "$file" 2>/dev/null
  printf '\\035%s\\n' "$?"
done`;

const HEADER = /^([0-9a-f]{40}) \d+ (\d+)/;

export function createBlamer(path: string): Blamer {
  let child: ChildProcessWithoutNullStreams | undefined;
  const waiting: {
    out: Map<number, string>;
    what: string;
    resolve: (m: Map<number, string>) => void;
    reject: (e: Error) => void;
  }[] = [];
  const fail = (e: Error): void => {
    for (const w of waiting.splice(0)) w.reject(e);
  };
  const start = (): ChildProcessWithoutNullStreams => {
    const c = spawn('sh', ['-c', LOOP, 'sh', path], { stdio: ['pipe', 'pipe', 'pipe'] });
    c.on('error', (e) => fail(e));
    c.on('close', () => fail(new Error('the git blame shell exited')));
    c.stderr.resume();
    const rl = createInterface({ input: c.stdout, crlfDelay: Infinity });
    rl.on('line', (line) => {
      const w = waiting[0];
      if (w === undefined) return;
      if (line.startsWith('\x1d')) {
        waiting.shift();
        const status = line.slice(1);
        if (status === '0') w.resolve(w.out);
        else
          w.reject(
            new PipelineError(
              'BAD_REQUEST',
              `git blame ${w.what} failed in ${path} (exit ${status}).`,
            ),
          );
        return;
      }
      const m = HEADER.exec(line);
      if (m) w.out.set(Number(m[2]), m[1] ?? '');
    });
    return c;
  };
  return {
    blame(from, commit, file) {
      if (/[\n\r]/.test(file) || /[\n\r]/.test(from + commit))
        return Promise.reject(
          new PipelineError(
            'BAD_REQUEST',
            `Cannot blame a path with a line break: ${JSON.stringify(file)}.`,
          ),
        );
      child ??= start();
      const c = child;
      return new Promise((resolve, reject) => {
        waiting.push({ out: new Map(), what: `${from}..${commit} -- ${file}`, resolve, reject });
        c.stdin.write(`${from}\n${commit}\n${file}\n`);
      });
    },
    close() {
      child?.stdin.end();
      child = undefined;
    },
  };
}
