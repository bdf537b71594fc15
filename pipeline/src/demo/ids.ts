import { createHash } from 'node:crypto';
import type { TelemetryOptions } from '@harness-meter/instrumentation';

type IdGenerator = NonNullable<TelemetryOptions['idGenerator']>;

/**
 * Trace and span ids derived from a seed and a counter: the demo plays its sessions in a fixed
 * order, so a second run sends exactly the ids of the first, and the sink (which drops a
 * (TraceId, SpanId) already stored) stores nothing new.
 */
export function fixedIdGenerator(seed: string): IdGenerator {
  let n = 0;
  const hex = (kind: string, length: number): string =>
    createHash('sha256')
      .update(`${seed}:${kind}:${String(n++)}`)
      .digest('hex')
      .slice(0, length);
  return {
    generateTraceId: () => hex('trace', 32),
    generateSpanId: () => hex('span', 16),
  };
}
