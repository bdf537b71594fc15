import {
  insertMetricPoints,
  migrateUp,
  repairRollups,
  openStore,
  type ClickHouseClient,
} from '@harness-meter/queries';
import { SERVER_LOCK_WAIT_MS, storeOptions, type Config } from './config.js';
import { decodeLogsRequest, decodeMetricsRequest, decodeTraceRequest } from './decode/index.js';
import { startReceiver, type OtlpEncoding, type Receiver } from './ingest/server.js';
import type { PartialSuccess } from './ingest/otlp-response.js';
import { createLogger, type Logger } from './logger.js';
import { createSessionStamper, type SessionStamper } from './stamp.js';
import { loadReloadablePriceBook, type PriceBook } from './price/index.js';
import { repriceRoute } from './reprice/index.js';
import { NEEDS_DETECTION, reportApi } from './report/service.js';
import { dashboardApi } from './report/dashboard.js';
import { createPageHandler } from './page/serve.js';
import { startDetectStage, type DetectStage } from './detect/index.js';
import { createSpanSink, type SinkWriteResult, type SpanSink } from './sink/sink.js';
import { createMetrics, type Metrics } from './metrics.js';
import { startPipelineAlerts } from './alerts/pipeline.js';
import { githubWebhookRoute } from './github/index.js';

/** The stages of the span path that do not depend on transport: decode → price → sink. */
export interface SpanPath {
  handleTraces(body: Uint8Array, encoding: OtlpEncoding): Promise<PartialSuccess>;
  /** Agents' own OTLP log events (Claude Code), turned into the same records. */
  handleLogs(body: Uint8Array, encoding: OtlpEncoding): Promise<PartialSuccess>;
}

export function createSpanPath(
  priceBook: PriceBook,
  sink: SpanSink,
  stamper: SessionStamper = createSessionStamper(),
  metrics: Metrics = createMetrics(),
): SpanPath {
  const count = (signal: string, accepted: number, rejected: number, r: SinkWriteResult): void => {
    metrics.inc('spans_received_total', 'Spans (or agent events) accepted.', accepted, { signal });
    metrics.inc('spans_rejected_total', 'Spans (or agent events) rejected.', rejected, { signal });
    metrics.inc('spans_stored_total', 'Spans stored in ClickHouse.', r.inserted);
    metrics.inc('spans_duplicate_total', 'Spans already stored (redeliveries).', r.duplicates);
  };
  return {
    async handleTraces(body, encoding) {
      const decoded = decodeTraceRequest(body, encoding);
      const priced = stamper.apply(decoded.spans).map((s) => priceBook.priceSpan(s));
      count('traces', priced.length, decoded.rejectedSpans, await sink.write(priced));
      return { rejected: decoded.rejectedSpans, message: decoded.errors.slice(0, 5).join('; ') };
    },
    async handleLogs(body, encoding) {
      const decoded = decodeLogsRequest(body, encoding);
      const priced = stamper.apply(decoded.spans).map((s) => priceBook.priceSpan(s));
      count('logs', priced.length, decoded.rejected, await sink.write(priced));
      return { rejected: decoded.rejected, message: decoded.errors.slice(0, 5).join('; ') };
    },
  };
}

export interface RunningServer {
  receiver: Receiver;
  client: ClickHouseClient;
  sink: SpanSink;
  detect: DetectStage;
  /** Stops accepting, flushes what is queued, closes the store. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts every stage in one process: the OTLP/HTTP receiver, decode, price and the ClickHouse
 * sink (chDB in HM_DATA_DIR unless HM_CLICKHOUSE_URL is set), with the schema migrated first.
 */
export async function startEmbedded(
  config: Config,
  logger: Logger = createLogger(config.logLevel),
): Promise<RunningServer> {
  const client = await openStore(storeOptions(config, SERVER_LOCK_WAIT_MS));
  try {
    const migrated = await migrateUp(client, config.database);
    if (migrated.applied.length > 0)
      logger.info('schema migrated', { applied: migrated.applied, version: migrated.current });
    // A crash inside an insert can leave spans stored without their rollup rows: rebuild those hours.
    const repaired = await repairRollups(client, config.database);
    if (Object.keys(repaired.rebuilt).length > 0) logger.warn('rollups repaired', repaired.rebuilt);
    const priceBook = loadReloadablePriceBook(config.pricesFile);
    const sink = createSpanSink(client, {
      db: config.database,
      maxSpans: config.batchMaxSpans,
      maxWaitMs: config.batchMaxWaitMs,
      logger,
    });
    const metrics = createMetrics();
    const path = createSpanPath(priceBook, sink, createSessionStamper(), metrics);
    const detect = startDetectStage(client, config.database, priceBook, logger, {
      idleMs: config.detectIdleMs,
      changes: () => sink.storedBatches(),
    });
    const alerts = startPipelineAlerts({ client, config, logger, sink, detect });
    const receiver = await startReceiver({
      host: config.host,
      port: config.port,
      maxBodyBytes: config.maxBodyBytes,
      onTraces: (body, encoding) => path.handleTraces(body, encoding),
      onLogs: (body, encoding) => path.handleLogs(body, encoding),
      onMetrics: async (body, encoding) => {
        const decoded = decodeMetricsRequest(body, encoding);
        await insertMetricPoints(client, config.database, decoded.points);
        return { rejected: 0, message: decoded.errors.slice(0, 5).join('; ') };
      },
      api: {
        ...reportApi(client, config.database, async (name) => {
          if (!NEEDS_DETECTION.includes(name)) return;
          await sink.flush();
          await detect.catchUp();
        }),
        ...dashboardApi(client, config.database, async () => {
          await sink.flush();
          await detect.catchUp();
        }),
      },
      page: createPageHandler(),
      metrics: () => {
        metrics.set('sink_batches_stored', 'Batches that stored new spans.', sink.storedBatches());
        return metrics.render();
      },
      post: {
        '/api/v1/reprice': repriceRoute({
          client,
          db: config.database,
          book: priceBook,
          flush: () => sink.flush(),
          logger,
        }),
        ...alerts.post,
        ...githubWebhookRoute(client, {
          db: config.database,
          secret: config.githubWebhookSecret,
          logger,
        }),
      },
      health: () => ({
        mode: 'embedded',
        store: config.clickhouseUrl ?? config.dataDir,
        database: config.database,
      }),
      logger,
    });
    let stopping: Promise<void> | undefined;
    return {
      receiver,
      client,
      sink,
      detect,
      stop: () =>
        (stopping ??= (async () => {
          await receiver.close();
          await sink.close();
          await alerts.stop();
          await detect.stop();
          await client.close();
        })()),
    };
  } catch (err) {
    await client.close();
    throw err;
  }
}
