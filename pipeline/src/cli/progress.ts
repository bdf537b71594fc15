/**
 * Progress of long CLI runs (reprice, demo, demo --spike, import of transcripts) on stderr, so stdout stays the result:
 * a bar (cli-progress, a maintained library) on a terminal, or a plain line at most every few
 * seconds otherwise (logs, CI). `total` may grow while the run learns it.
 */
import { createRequire } from 'node:module';
import type { CliIo } from './common.js';

// Loaded on the first bar, not at start-up: `--help` and one-shot commands skip it (cli/program.ts).
const requireCjs = createRequire(import.meta.url);

/** Plain progress lines are printed at most this often when stderr is not a terminal. */
export const PLAIN_PROGRESS_EVERY_MS = 2_000;

export interface Progress {
  /** `detail`: more of the state after the count, e.g. `12,345 lines`. */
  update(done: number, total?: number, detail?: string): void;
  /** Ends the bar; later updates are ignored. */
  stop(): void;
}

export function createProgress(
  io: CliIo,
  label: string,
  unit: string,
  total: number,
  stderrIsTty: boolean = process.stderr.isTTY,
  /** The clock of the plain lines (a test passes its own). @default Date.now */
  now: () => number = Date.now,
): Progress {
  if (stderrIsTty && !io.env.CI) {
    const { SingleBar } = requireCjs('cli-progress') as typeof import('cli-progress');
    const bar = new SingleBar({
      format: `${label} [{bar}] {value}/{total} ${unit}{detail}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      noTTYOutput: false,
    });
    bar.start(total, 0, { detail: '' });
    let stopped = false;
    return {
      update(done, newTotal, detail) {
        if (stopped) return;
        if (newTotal !== undefined) bar.setTotal(newTotal);
        bar.update(done, detail === undefined ? {} : { detail: `, ${detail}` });
      },
      stop() {
        if (!stopped) bar.stop();
        stopped = true;
      },
    };
  }
  let last = now();
  let max = total;
  let stopped = false;
  return {
    update(done, newTotal, detail) {
      if (newTotal !== undefined) max = newTotal;
      if (stopped || now() - last < PLAIN_PROGRESS_EVERY_MS) return;
      last = now();
      io.err(
        `${label}: ${done.toLocaleString('en-US')} of ${max.toLocaleString('en-US')} ${unit}${detail === undefined ? '' : `, ${detail}`}\n`,
      );
    },
    stop() {
      // The command prints its own summary; nothing to clear in plain mode.
      stopped = true;
    },
  };
}
