/**
 * Progress of long CLI runs (reprice, demo, demo --spike) on stderr, so stdout stays the result:
 * a bar (cli-progress, a maintained library) on a terminal, or a plain line at most every few
 * seconds otherwise (logs, CI). `total` may grow while the run learns it.
 */
import { SingleBar } from 'cli-progress';
import type { CliIo } from './common.js';

/** Plain progress lines are printed at most this often when stderr is not a terminal. */
export const PLAIN_PROGRESS_EVERY_MS = 2_000;

export interface Progress {
  update(done: number, total?: number): void;
  stop(): void;
}

export function createProgress(
  io: CliIo,
  label: string,
  unit: string,
  total: number,
  stderrIsTty: boolean = process.stderr.isTTY,
): Progress {
  if (stderrIsTty && !io.env.CI) {
    const bar = new SingleBar({
      format: `${label} [{bar}] {value}/{total} ${unit}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      noTTYOutput: false,
    });
    bar.start(total, 0);
    return {
      update(done, newTotal) {
        if (newTotal !== undefined) bar.setTotal(newTotal);
        bar.update(done);
      },
      stop: () => bar.stop(),
    };
  }
  let last = Date.now();
  let current = 0;
  let max = total;
  return {
    update(done, newTotal) {
      current = done;
      if (newTotal !== undefined) max = newTotal;
      if (Date.now() - last >= PLAIN_PROGRESS_EVERY_MS) {
        last = Date.now();
        io.err(
          `${label}: ${current.toLocaleString('en-US')} of ${max.toLocaleString('en-US')} ${unit}\n`,
        );
      }
    },
    stop() {
      // The command prints its own summary; nothing to clear in plain mode.
    },
  };
}
