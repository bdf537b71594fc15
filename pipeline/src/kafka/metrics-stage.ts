import { insertMetricPoints, type ClickHouseClient } from '@harness-meter/queries';
import type { Message } from 'kafkajs';
import { decodeMetricsRequest, OtlpDecodeError, type MetricPoint } from '../decode/index.js';
import {
  deadLetter,
  makeStage,
  sendDeadLetters,
  untilDone,
  type Stage,
  type StageDeps,
} from './consumers.js';
import { ENCODING_HEADER } from './ingest.js';
import { PoisonMessageError } from './codec.js';

export interface MetricsStageDeps extends StageDeps {
  client: ClickHouseClient;
  db: string;
}

/**
 * Metrics: reads OTLP metrics export requests (from harness-meter's ingest or the Collector's Kafka
 * exporter) and stores the agents' cross-check counters as embedded mode does. A redelivered point
 * is the same row of a ReplacingMergeTree, so at-least-once delivery counts it once; undecodable
 * messages go to the dead-letter topic.
 */
export function createMetricsStage(deps: MetricsStageDeps): Stage {
  const { cfg, metrics, client, db } = deps;
  const configured = cfg.otlpEncoding === 'otlp_json' ? 'json' : 'protobuf';
  return makeStage(deps, `${cfg.groupPrefix}-metrics`, [cfg.otlpMetricsTopic], async (_c, p) => {
    const points: MetricPoint[] = [];
    const dead: Message[] = [];
    let rejected = 0;
    for (const m of p.batch.messages) {
      const header = m.headers?.[ENCODING_HEADER]?.toString();
      const encoding = header === 'json' || header === 'protobuf' ? header : configured;
      try {
        if (!m.value) throw new PoisonMessageError('empty message value');
        const decoded = decodeMetricsRequest(m.value, encoding, deps.limits);
        for (const point of decoded.points) points.push(point);
        rejected += decoded.rejected;
      } catch (err) {
        if (!(err instanceof OtlpDecodeError || err instanceof PoisonMessageError)) throw err;
        dead.push(deadLetter(p.batch.topic, p.batch.partition, m, err.message));
      }
    }
    await sendDeadLetters(dead, 'metrics', p, deps);
    if (rejected > 0) metrics.inc('rejected_points_total', 'Metric data points refused.', rejected);
    if (points.length > 0) {
      await untilDone(
        'clickhouse metrics insert',
        () => insertMetricPoints(client, db, points),
        p,
        deps,
      );
      metrics.inc('metric_points_stored_total', 'Metric data points stored.', points.length);
    }
  });
}
