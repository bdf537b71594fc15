import { prelinkNow, type ClickHouseClient, type PrelinkLimit } from '@harness-meter/queries';
import { silentLogger, type Logger } from '../logger.js';

export const PRELINK_DEFAULTS = {
  /** How often the background re-link looks at the write counter. */
  intervalMs: 500,
  /** A pass starts once writes have been quiet this long… */
  quietMs: 500,
  /** …or this long after the first write it has not re-linked yet (a steady stream of writes). */
  maxWaitMs: 2_000,
  /**
   * Work per pass: a report waiting behind a pass waits for at most this much. A pass is a handful of
   * statements, each queued behind the writer's inserts, so passes are few and take many hours each.
   */
  limit: { hours: 1_000, repos: 5 } satisfies PrelinkLimit,
} as const;

export interface BackgroundPrelink {
  stop(): Promise<void>;
}

/**
 * Re-links spend to PRs (queries/src/prelink.ts) in the background soon after writes, so the first
 * linked report after a load finds little left to re-link. Debounced on `changes` (a counter of stored
 * batches), one pass at a time, each bounded to `limit`; passes go on while marks are left. Reports
 * still re-link what remains before they read, so their results do not depend on this.
 */
export function startBackgroundPrelink(
  client: ClickHouseClient,
  db: string,
  changes: () => number,
  log: Logger = silentLogger,
  opts: {
    intervalMs?: number;
    quietMs?: number;
    maxWaitMs?: number;
    limit?: PrelinkLimit;
  } = {},
): BackgroundPrelink {
  const quietMs = opts.quietMs ?? PRELINK_DEFAULTS.quietMs;
  const maxWaitMs = opts.maxWaitMs ?? PRELINK_DEFAULTS.maxWaitMs;
  const limit = opts.limit ?? PRELINK_DEFAULTS.limit;
  let seen = changes();
  let lastChangeAt = 0;
  let firstPendingAt: number | undefined;
  let more = false;
  let stopped = false;
  let running: Promise<void> | undefined;
  const tick = (): void => {
    if (running || stopped) return;
    const now = Date.now();
    const c = changes();
    if (c !== seen) {
      seen = c;
      lastChangeAt = now;
      firstPendingAt ??= now;
    }
    const due =
      more ||
      (firstPendingAt !== undefined &&
        (now - lastChangeAt >= quietMs || now - firstPendingAt >= maxWaitMs));
    if (!due) return;
    firstPendingAt = undefined;
    running = prelinkNow(client, db, limit)
      .then(
        (pass) => {
          more = pass.more;
          if (pass.hours + pass.repos > 0) log.debug('re-linked spend to PRs', { ...pass });
        },
        (err: unknown) => {
          // Left marked: the next write, or the next report, re-links it.
          more = false;
          log.warn('background re-link failed; reports re-link before they read', {
            error: err instanceof Error ? err.message : String(err),
          });
        },
      )
      .finally(() => (running = undefined));
  };
  const timer = setInterval(tick, opts.intervalMs ?? PRELINK_DEFAULTS.intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
