import { join } from 'node:path';
import {
  loadApiKeys,
  insertMetricPoints,
  migrateUp,
  markRollupsClean,
  repairRollups,
  openStore,
  type ClickHouseClient,
} from '@harness-meter/queries';
import { SERVER_LOCK_WAIT_MS, storeOptions, type Config } from './config.js';
import {
  ANONYMOUS,
  startReceiver,
  type IngestContext,
  type OtlpEncoding,
  type Receiver,
} from './ingest/server.js';
import { bindIdentity, createRequestGuard, keysRoutes, overrideMessage } from './auth/index.js';
import {
  ATTR_HM_TRUNCATED,
  DECODE_DEFAULTS,
  decodeLogsRequest,
  decodeMetricsRequest,
  decodeTraceRequest,
  type DecodeLimits,
} from './decode/index.js';
import { createMetrics, type Metrics } from './metrics.js';
import { ConfigError } from './errors.js';
import type { PricedSpan, SpanRecord } from './model.js';
import type { PartialSuccess } from './ingest/otlp-response.js';
import { createLogger, type Logger } from './logger.js';
import { createSessionStamper, type SessionStamper } from './stamp.js';
import { costOutOfRange, loadReloadablePriceBook, type PriceBook } from './price/index.js';
import { repriceRoute } from './reprice/index.js';
import { NEEDS_DETECTION, reportApi } from './report/service.js';
import { dashboardApi } from './report/dashboard.js';
import { createPageHandler } from './page/serve.js';
import { startDetectStage, type DetectStage } from './detect/index.js';
import { CHDB_INSERT_SETTINGS, createSpanSink, type SpanSink } from './sink/sink.js';
import { chdbInsertFormat, type SpanInsertOptions } from './sink/insert-spans.js';
import { createWalSpanSink } from './sink/wal-sink.js';
import { openWriteAheadLog } from './wal/log.js';
import { startPipelineAlerts } from './alerts/pipeline.js';
import { githubWebhookRoute } from './github/index.js';
import { transcriptApi } from './transcripts/route.js';
import { demoResetRoute } from './demo/reset.js';

/** The stages of the span path that do not depend on transport: decode → price → sink. */
export interface SpanPath {
  /** `context`: the API key that sent the request; a bound key's team and developer win. */
  handleTraces(
    body: Uint8Array,
    encoding: OtlpEncoding,
    context?: IngestContext,
  ): Promise<PartialSuccess>;
  /** Agents' own OTLP log events (Claude Code), turned into the same records. */
  handleLogs(
    body: Uint8Array,
    encoding: OtlpEncoding,
    context?: IngestContext,
  ): Promise<PartialSuccess>;
}

/** Joins decode errors and the bound-identity warning into partial_success.error_message. */
const partialMessage = (errors: readonly string[], warning: string): string =>
  [...errors.slice(0, 5), ...(warning ? [warning] : [])].join('; ');

export function createSpanPath(
  priceBook: PriceBook,
  sink: SpanSink,
  stamper: SessionStamper = createSessionStamper(),
  options: { limits?: DecodeLimits; metrics?: Metrics } = {},
): SpanPath {
  const limits = options.limits ?? DECODE_DEFAULTS;
  const count = (signal: string, stage: string, n: number): void => {
    if (n > 0)
      options.metrics?.inc(
        'rejected_spans_total',
        'Spans and agent events refused (bad times, counts or ids; costs out of range; refused by the store).',
        n,
        { signal, stage },
      );
  };
  /** Prices, refuses out-of-range costs, stores; the partial success sums every refusal. */
  async function store(
    signal: string,
    records: SpanRecord[],
    rejected: number,
    errors: string[],
    context: IngestContext,
  ): Promise<PartialSuccess> {
    const kept: PricedSpan[] = [];
    const reasons = [...errors];
    let refusedAtPrice = 0;
    // A bound ingest key's team/developer replace what the spans claim (README, "Security").
    const bound = bindIdentity(stamper.apply(records), context);
    for (const s of bound.records.map((r) => priceBook.priceSpan(r))) {
      const bad = costOutOfRange(s);
      if (bad === undefined) kept.push(s);
      else {
        refusedAtPrice++;
        reasons.push(bad);
      }
    }
    const written = await sink.write(kept);
    options.metrics?.inc('spans_received_total', 'Spans (or agent events) accepted.', kept.length, {
      signal,
    });
    options.metrics?.inc('spans_stored_total', 'Spans stored in ClickHouse.', written.inserted);
    options.metrics?.inc(
      'spans_duplicate_total',
      'Spans already stored (redeliveries).',
      written.duplicates,
    );
    count(signal, 'decode', rejected);
    count(signal, 'price', refusedAtPrice);
    count(signal, 'sink', written.refused);
    const truncated = kept.filter((s) => s.spanAttributes[ATTR_HM_TRUNCATED] !== undefined).length;
    if (truncated > 0)
      options.metrics?.inc(
        'truncated_spans_total',
        'Spans stored with attributes dropped or cut (OTel attribute limits).',
        truncated,
        { signal },
      );
    reasons.push(...written.reasons);
    return {
      rejected: rejected + refusedAtPrice + written.refused,
      message: partialMessage(reasons, overrideMessage(bound.overridden, context)),
    };
  }
  return {
    async handleTraces(body, encoding, context = ANONYMOUS) {
      const decoded = decodeTraceRequest(body, encoding, limits);
      return store('traces', decoded.spans, decoded.rejectedSpans, decoded.errors, context);
    },
    async handleLogs(body, encoding, context = ANONYMOUS) {
      const decoded = decodeLogsRequest(body, encoding, limits);
      return store('logs', decoded.spans, decoded.rejected, decoded.errors, context);
    },
  };
}

/** On chDB: one-thread inserts, and the key filter saved at a clean stop beside the store. */
const chdbSinkOptions = (
  config: Config,
): {
  insertSettings: Record<string, string | number>;
  savedFilter: string;
  insertFormat: SpanInsertOptions;
} => ({
  insertSettings: { ...CHDB_INSERT_SETTINGS },
  savedFilter: join(config.dataDir, 'sink-key-filter.bin'),
  insertFormat: chdbInsertFormat(config),
});

/**
 * The write-ahead sink (HM_INGEST_WAL): opens the log, cuts a torn tail, and replays what an
 * earlier run acknowledged but did not store, in the background (reports wait for it).
 */
async function openWalSink(
  client: ClickHouseClient,
  config: Config,
  logger: Logger,
  metrics: Metrics,
): Promise<SpanSink> {
  const dir = config.ingestWal.dir!;
  const opened = await openWriteAheadLog(dir, { logger }).catch((err: unknown) => {
    throw new ConfigError(
      `HM_INGEST_WAL: the folder ${dir} cannot be used (${err instanceof Error ? err.message : String(err)}): give a writable folder on a local disk, or HM_INGEST_WAL=off.`,
    );
  });
  return createWalSpanSink(client, {
    db: config.database,
    log: opened.log,
    maxBytes: config.ingestWal.maxBytes,
    maxWaitMs: config.batchMaxWaitMs,
    keyFilter: config.clickhouseUrl === undefined,
    ...(config.clickhouseUrl === undefined ? chdbSinkOptions(config) : {}),
    // The rest of the shutdown budget goes to closing the store; what is left is replayed.
    closeBudgetMs: Math.min(3000, Math.floor(config.shutdownTimeoutMs / 3)),
    logger,
    onStored: (r) => {
      metrics.inc('spans_stored_total', 'Spans stored in ClickHouse.', r.inserted);
      metrics.inc('spans_duplicate_total', 'Spans already stored (redeliveries).', r.duplicates);
      if (r.refused > 0)
        metrics.inc('dead_letters_total', 'Spans set aside in rejected_spans.', r.refused, {
          stage: 'sink',
        });
    },
  });
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
    // Before any stage starts: an open non-loopback server refuses to start here.
    const guard = await createRequestGuard({
      mode: config.auth,
      bind: config.host,
      allowedHosts: config.allowedHosts,
      keys: { load: () => loadApiKeys(client, config.database) },
      logger,
    });
    const priceBook = loadReloadablePriceBook(config.pricesFile);
    const metrics = createMetrics();
    const wal = config.ingestWal.dir;
    const sink: SpanSink =
      wal !== undefined
        ? await openWalSink(client, config, logger, metrics)
        : createSpanSink(client, {
            db: config.database,
            maxSpans: config.batchMaxSpans,
            maxWaitMs: config.batchMaxWaitMs,
            // chDB's folder lock makes this process the only writer: the key filter is sound.
            keyFilter: config.clickhouseUrl === undefined,
            ...(config.clickhouseUrl === undefined ? chdbSinkOptions(config) : {}),
            logger,
            onRefused: (n) =>
              metrics.inc('dead_letters_total', 'Spans set aside in rejected_spans.', n, {
                stage: 'sink',
              }),
          });
    const path = createSpanPath(priceBook, sink, undefined, { limits: config.limits, metrics });
    const detect = startDetectStage(client, config.database, priceBook, logger, {
      idleMs: config.detectIdleMs,
      changes: () => sink.storedBatches(),
    });
    const alerts = startPipelineAlerts({ client, config, logger, sink, detect });
    const keys = keysRoutes(client, {
      db: config.database,
      logger,
      changed: () => guard.invalidate(),
    });
    const receiver = await startReceiver({
      host: config.host,
      port: config.port,
      maxBodyBytes: config.maxBodyBytes,
      guard,
      limits: config.httpLimits,
      onTraces: (body, encoding, context) => path.handleTraces(body, encoding, context),
      onLogs: (body, encoding, context) => path.handleLogs(body, encoding, context),
      onMetrics: async (body, encoding) => {
        const decoded = decodeMetricsRequest(body, encoding, config.limits);
        await insertMetricPoints(client, config.database, decoded.points);
        if (decoded.rejected > 0)
          metrics.inc('rejected_points_total', 'Metric data points refused.', decoded.rejected);
        return { rejected: decoded.rejected, message: decoded.errors.slice(0, 5).join('; ') };
      },
      api: {
        ...reportApi(client, config.database, async (name) => {
          // Write-ahead log: a report sees every span acknowledged before it (a bounded wait).
          if (wal !== undefined) await sink.flush();
          if (!NEEDS_DETECTION.includes(name)) return;
          await sink.flush();
          await detect.catchUp();
        }),
        ...keys.api,
        ...transcriptApi(client, config.database),
        ...dashboardApi(client, config.database, async () => {
          await sink.flush();
          await detect.catchUp();
        }),
      },
      pages: createPageHandler(),
      post: {
        ...keys.post,
        '/api/v1/reprice': repriceRoute({
          client,
          db: config.database,
          book: priceBook,
          flush: () => sink.flush(),
          logger,
        }),
        ...alerts.post,
        ...demoResetRoute(client, config.database, () => sink.flush()),
        ...githubWebhookRoute(client, {
          db: config.database,
          secret: config.githubWebhookSecret,
          logger,
          incidentLabels: config.incidentLabels,
        }),
      },
      metrics: () => {
        metrics.set(
          'sink_stored_batches',
          'Sink batches that stored new spans.',
          sink.storedBatches(),
        );
        return metrics.render();
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
          // Background rounds stop at their next query while the receiver drains its requests;
          // then the sink stores what was acknowledged, and the store closes once, last.
          await Promise.all([receiver.close(), alerts.stop(), detect.stop()]);
          await sink.close();
          // Sole writer, stopped cleanly: the next start checks only what is written after this.
          await markRollupsClean(client, config.database).catch((err: unknown) =>
            logger.warn('recording the clean stop failed; the next start checks every hour', {
              error: err instanceof Error ? err.message : String(err),
            }),
          );
          await client.close();
        })()),
    };
  } catch (err) {
    await client.close();
    throw err;
  }
}
