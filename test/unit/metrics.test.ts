import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../pipeline/src/metrics.js';

describe('Prometheus metrics (prom-client)', () => {
  it('renders counters, gauges, _seconds histograms and process metrics, and never throws', async () => {
    const m = createMetrics();
    m.inc('spans_stored_total', 'Spans stored.', 30);
    m.inc('dead_letters_total', 'Dead letters.', 1, { stage: 'repartition' });
    m.set('consumer_lag_messages', 'Lag.', 7, { group: 'g', topic: 't' });
    m.observe('insert_seconds', 'Insert time.', 0.2);
    m.observe('batch_messages', 'Batch size.', 40, { group: 'g' });
    // A label set that differs from the family's first use is dropped and counted, not thrown.
    expect(() => m.inc('dead_letters_total', 'Dead letters.', 1, { other: 'x' })).not.toThrow();
    expect(() => m.inc('spans_stored_total', 'Spans stored.', -1)).not.toThrow();
    expect(m.get('spans_stored_total')).toBe(30);
    const text = await m.render();
    expect(text).toMatch(/^harness_meter_spans_stored_total 30$/m);
    expect(text).toMatch(/^harness_meter_dead_letters_total\{stage="repartition"\} 1$/m);
    expect(text).toMatch(/^harness_meter_consumer_lag_messages\{group="g",topic="t"\} 7$/m);
    expect(text).toContain('# TYPE harness_meter_insert_seconds histogram');
    expect(text).toMatch(/^harness_meter_insert_seconds_bucket\{le="0.25"\} 1$/m);
    expect(text).toMatch(/^harness_meter_batch_messages_bucket\{le="50",group="g"\} 1$/m);
    expect(text).toMatch(/^harness_meter_metrics_refused_total 2$/m);
    expect(text).toContain('harness_meter_process_resident_memory_bytes');
  });
});
