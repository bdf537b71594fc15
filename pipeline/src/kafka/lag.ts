import type { Admin } from 'kafkajs';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';

/** How often consumer lag is measured. */
export const LAG_INTERVAL_MS = 5000;

/** Measures each group's lag (log end offset − committed offset, summed over partitions) into a gauge. */
export function startLagMonitor(
  admin: Admin,
  groups: { groupId: string; topic: string }[],
  metrics: Metrics,
  log: Logger,
): () => void {
  let stopped = false;
  const measure = async (): Promise<void> => {
    for (const { groupId, topic } of groups) {
      try {
        const [ends, committed] = await Promise.all([
          admin.fetchTopicOffsets(topic),
          admin.fetchOffsets({ groupId, topics: [topic] }),
        ]);
        const done = new Map(
          (committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]),
        );
        let lag = 0n;
        for (const e of ends) {
          const c = done.get(e.partition) ?? -1n;
          lag += BigInt(e.high) - (c < 0n ? BigInt(e.low) : c);
        }
        metrics.set(
          'consumer_lag_messages',
          'Messages not yet processed by the group.',
          Number(lag),
          { group: groupId, topic },
        );
      } catch (err) {
        log.debug('lag measurement failed', {
          groupId,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  };
  const timer = setInterval(() => {
    if (!stopped) void measure();
  }, LAG_INTERVAL_MS);
  timer.unref();
  void measure();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
