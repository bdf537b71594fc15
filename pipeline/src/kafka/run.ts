import {
  loadApiKeys,
  migrateUp,
  openStore,
  repairRollups,
  type ClickHouseClient,
} from '@harness-meter/queries';
import { createRequestGuard, keysRoutes, type AuthGuard } from '../auth/index.js';
import { SERVER_LOCK_WAIT_MS, storeOptions, type Config } from '../config.js';
import { PipelineError } from '../errors.js';
import { startReceiver, type Receiver } from '../ingest/server.js';
import { githubWebhookRoute } from '../github/index.js';
import type { Logger } from '../logger.js';
import { createMetrics, type Metrics } from '../metrics.js';
import { loadReloadablePriceBook, type ReloadablePriceBook } from '../price/index.js';
import { repriceRoute } from '../reprice/index.js';
import { NEEDS_DETECTION, reportApi } from '../report/service.js';
import { transcriptApi } from '../transcripts/route.js';
import { dashboardApi } from '../report/dashboard.js';
import { createPageHandler } from '../page/serve.js';
import { startDetectStage, type DetectStage } from '../detect/index.js';
import { createSpanSink, type SpanSink, type SpanSinkOptions } from '../sink/sink.js';
import { chdbInsertFormat } from '../sink/insert-spans.js';
import { startPipelineAlerts, type PipelineAlerts } from '../alerts/pipeline.js';
import { createKafka, ensureTopics } from './client.js';
import { refusedSpanMessage, type Stage } from './consumers.js';
import { createEnrichStage, createRepartitionStage, ENRICH_DEFAULTS } from './stages.js';
import { createKafkaIngest, createKafkaLogsIngest, createKafkaMetricsIngest } from './ingest.js';
import { createMetricsStage } from './metrics-stage.js';
import { startLagMonitor } from './lag.js';
import { createLease, type Lease } from './lease.js';
import { clickHouseLeaseStore, LEADER_LEASE, leaseHolderId } from './lease-store.js';

export type KafkaRole = 'ingest' | 'enrich';

/** Waits for every one of `work` (so none still runs after), then throws the first failure. */
async function allSettled(work: readonly Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(work)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

export interface KafkaPipeline {
  receiver: Receiver;
  metrics: Metrics;
  client: ClickHouseClient | undefined;
  sink: SpanSink | undefined;
  /** Stops fetching, finishes and commits in-flight batches, leaves the groups, flushes, closes. */
  stop(): Promise<void>;
}

/**
 * Runs the stages joined by Kafka: `ingest` (OTLP/HTTP → raw topic) and/or `enrich`
 * (raw topic → session topic → price → ClickHouse). Each stage scales out as a consumer group.
 */
export interface KafkaPipelineOptions {
  /** Use this ClickHouse client instead of opening the configured store (it is not closed on stop). */
  client?: ClickHouseClient;
  /**
   * Hold the leader lease (migration 0017) for alert evaluation and rollup repair, as several
   * processes on one ClickHouse server must. @default true with HM_CLICKHOUSE_URL, false with chDB
   * (one process owns its data folder)
   */
  lease?: boolean;
  /** This process's id in the lease. @default host:pid:random */
  leaseHolder?: string;
  /**
   * Skip the sink's dedup read for spans its Bloom filter has never seen (as embedded mode does).
   * Sound only when this process is the only writer of the spans table. @default true with chDB
   * (its folder lock makes this process the only writer), false with HM_CLICKHOUSE_URL
   */
  keyFilter?: boolean;
  /**
   * Let the enrich stage fetch, decode and price the next batch of a partition while the previous
   * one is being inserted; offsets are still committed in order, each only after its spans are
   * stored. @default true
   */
  overlapInserts?: boolean;
  /**
   * With `overlapInserts`: batches per partition handed off and not yet committed.
   * @default ENRICH_DEFAULTS.overlapDepth
   */
  overlapDepth?: number;
  /** Most bytes an enrich fetch takes of a partition. @default ENRICH_DEFAULTS.maxBytesPerPartition */
  enrichFetchBytes?: number;
  /** Overrides of the enrich sink's batching and insert settings (benchmarks compare them). */
  sink?: Pick<SpanSinkOptions, 'maxBatchSpans' | 'insertSettings' | 'maxSpans' | 'maxWaitMs'>;
}

export async function startKafkaPipeline(
  config: Config,
  roles: readonly KafkaRole[],
  log: Logger,
  options: KafkaPipelineOptions = {},
): Promise<KafkaPipeline> {
  const cfg = config.kafka;
  if (cfg.brokers.length === 0)
    throw new PipelineError(
      'CONFIG_INVALID',
      'Kafka mode needs HM_KAFKA_BROKERS (e.g. HM_KAFKA_BROKERS=127.0.0.1:9092).',
    );
  const metrics = createMetrics();
  const kafka = createKafka(cfg, log, roles.join('+'));
  const admin = kafka.admin();
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  let client: ClickHouseClient | undefined;
  /** A client only for API keys: an ingest-only stage reading keys from a ClickHouse server. */
  let keysClient: ClickHouseClient | undefined;
  let sink: SpanSink | undefined;
  const stages: Stage[] = [];
  let stopLag = (): void => undefined;
  let detect: DetectStage | undefined;
  let priceBook: ReloadablePriceBook | undefined;
  let alerts: PipelineAlerts | undefined;
  let lease: Lease | undefined;
  let receiver: Receiver | undefined;
  let guard: AuthGuard;
  // Whatever fails while starting (a locked data folder, Kafka, a refused configuration) closes
  // what was opened, so the process exits instead of hanging on open Kafka connections.
  const closeAll = async (): Promise<void> => {
    const steps: (() => Promise<unknown>)[] = [
      () => receiver?.close() ?? Promise.resolve(),
      () => Promise.resolve(stopLag()),
      // The groups are independent: they stop (each waiting for its fetch in flight) together.
      () => allSettled(stages.map((s) => s.stop())),
      // As in embedded mode: alerts and detection stop together (at their next query), then the
      // sink stores what the stages handed it, then the lease goes, and the store closes last.
      () => allSettled([alerts?.stop() ?? Promise.resolve(), detect?.stop() ?? Promise.resolve()]),
      () => sink?.close() ?? Promise.resolve(),
      () => lease?.release() ?? Promise.resolve(),
      () => producer.disconnect(),
      () => admin.disconnect(),
      () => (options.client ? Promise.resolve() : (client?.close() ?? Promise.resolve())),
      () => keysClient?.close() ?? Promise.resolve(),
    ];
    for (const step of steps) {
      try {
        await step();
      } catch (err) {
        log.warn('error while closing', {
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  };
  try {
    if (roles.includes('enrich'))
      // Opened before Kafka is joined: a locked data folder fails fast.
      client = options.client ?? (await openStore(storeOptions(config, SERVER_LOCK_WAIT_MS)));
    else if (config.clickhouseUrl !== undefined) keysClient = await openStore(storeOptions(config));
    const keyStore = client ?? keysClient;
    if (keyStore) await migrateUp(keyStore, config.database);
    guard = await createRequestGuard({
      mode: config.auth,
      bind: config.host,
      allowedHosts: config.allowedHosts,
      ...(keyStore ? { keys: { load: () => loadApiKeys(keyStore, config.database) } } : {}),
      logger: log,
    });
    await admin.connect();
    await ensureTopics(admin, cfg);
    await producer.connect();

    if (client) {
      const store = client;
      // A crash inside an insert can leave spans stored without their rollup rows: rebuild those hours.
      // With several processes on one server, only the lease holder repairs (and evaluates alerts).
      const repair = async (): Promise<void> => {
        const repaired = await repairRollups(store, config.database);
        if (Object.keys(repaired.rebuilt).length > 0)
          log.warn('rollups repaired', repaired.rebuilt);
      };
      if (options.lease ?? config.clickhouseUrl !== undefined) {
        let started = false;
        lease = createLease(clickHouseLeaseStore(client, config.database), {
          name: LEADER_LEASE,
          holder: options.leaseHolder ?? leaseHolderId(),
          ttlMs: cfg.leaseTtlMs,
          logger: log,
          // Taking over from a holder that died: it may have died inside an insert.
          onChange: (held) => {
            if (held && started)
              void (async () => {
                await sink?.flush();
                await repair();
              })().catch((err: unknown) =>
                log.warn('rollup repair after taking the lease failed', {
                  error: err instanceof Error ? err.message : String(err),
                }),
              );
          },
        });
        if (await lease.tick()) await repair();
        else log.info('rollup repair left to the lease holder', { holder: lease.holderSeen() });
        started = true;
        lease.start();
      } else await repair();
      sink = createSpanSink(client, {
        db: config.database,
        maxSpans: config.batchMaxSpans,
        maxWaitMs: config.batchMaxWaitMs,
        // chDB: larger inserts (a ClickHouse server gets the sink's default, text bodies stay smaller).
        ...(config.clickhouseUrl === undefined
          ? { maxBatchSpans: ENRICH_DEFAULTS.maxBatchSpans }
          : {}),
        keyFilter: options.keyFilter ?? config.clickhouseUrl === undefined,
        ...(config.clickhouseUrl === undefined ? { insertFormat: chdbInsertFormat(config) } : {}),
        logger: log,
        // Kafka mode: a span the store refuses goes to the dead-letter topic alone, with its reason.
        deadLetter: async (refused) => {
          await producer.send({
            topic: cfg.deadLetterTopic,
            acks: -1,
            messages: refused.map((r) => refusedSpanMessage(r, 'enrich')),
          });
        },
        onRefused: (n) =>
          metrics.inc('dead_letters_total', 'Messages sent to the dead-letter topic.', n, {
            stage: 'sink',
          }),
        ...options.sink,
      });
      const deps = { kafka, producer, cfg, log, metrics, limits: config.limits };
      priceBook = loadReloadablePriceBook(config.pricesFile);
      stages.push(
        createRepartitionStage(deps),
        createEnrichStage(
          { ...deps, priceBook, sink },
          {
            overlap: options.overlapInserts ?? true,
            overlapDepth: options.overlapDepth ?? ENRICH_DEFAULTS.overlapDepth,
            maxBytesPerPartition: options.enrichFetchBytes ?? ENRICH_DEFAULTS.maxBytesPerPartition,
          },
        ),
        createMetricsStage({ ...deps, client, db: config.database }),
      );
      const stageSink = sink;
      detect = startDetectStage(client, config.database, priceBook, log, {
        idleMs: config.detectIdleMs,
        changes: () => stageSink.storedBatches(),
      });
      alerts = startPipelineAlerts({
        client,
        config,
        logger: log,
        sink,
        detect,
        ...(lease ? { lease } : {}),
      });
      stopLag = startLagMonitor(
        admin,
        [
          { groupId: `${cfg.groupPrefix}-repartition`, topic: cfg.otlpSpansTopic },
          { groupId: `${cfg.groupPrefix}-repartition`, topic: cfg.otlpLogsTopic },
          { groupId: `${cfg.groupPrefix}-metrics`, topic: cfg.otlpMetricsTopic },
          { groupId: `${cfg.groupPrefix}-enrich`, topic: cfg.sessionSpansTopic },
        ],
        metrics,
        log,
      );
    }
    const keys = client
      ? keysRoutes(client, { db: config.database, logger: log, changed: () => guard.invalidate() })
      : undefined;
    receiver = await startReceiver({
      host: config.host,
      port: config.port,
      maxBodyBytes: config.maxBodyBytes,
      guard,
      limits: config.httpLimits,
      ...(roles.includes('ingest')
        ? {
            onTraces: createKafkaIngest(producer, cfg, metrics, config.limits),
            onLogs: createKafkaLogsIngest(producer, cfg, metrics, config.limits),
            onMetrics: createKafkaMetricsIngest(producer, cfg, metrics, config.limits),
          }
        : {}),
      ...(client
        ? {
            api: {
              ...reportApi(client, config.database, async (name) => {
                if (!NEEDS_DETECTION.includes(name)) return;
                await sink?.flush();
                await detect?.catchUp();
              }),
              ...keys?.api,
              ...transcriptApi(client, config.database),
              ...dashboardApi(client, config.database, async () => {
                await sink?.flush();
                await detect?.catchUp();
              }),
            },
            pages: createPageHandler(),
          }
        : {}),
      // POST routes of a process that holds the store (the enrich role): reprice, alerts, GitHub webhook.
      ...(client && priceBook && sink
        ? {
            post: {
              ...keys?.post,
              '/api/v1/reprice': repriceRoute({
                client,
                db: config.database,
                book: priceBook,
                flush: () => sink?.flush() ?? Promise.resolve(),
                logger: log,
              }),
              ...(alerts?.post ?? {}),
              ...githubWebhookRoute(client, {
                db: config.database,
                secret: config.githubWebhookSecret,
                incidentLabels: config.incidentLabels,
                logger: log,
              }),
            },
          }
        : {}),
      metrics: () => metrics.render(),
      health: () => ({
        mode: 'kafka',
        roles,
        brokers: cfg.brokers,
        ...(client
          ? { store: config.clickhouseUrl ?? config.dataDir, database: config.database }
          : {}),
      }),
      logger: log,
    });
    // The HTTP side (health, metrics, reports) answers while the consumers join their groups, which
    // can take a session timeout after a member died.
    for (const s of stages) await s.start();
  } catch (err) {
    await closeAll();
    throw err;
  }
  log.info('kafka pipeline started', { roles, brokers: cfg.brokers, url: receiver.url });

  let stopping: Promise<void> | undefined;
  return {
    receiver,
    metrics,
    client,
    sink,
    stop: () => (stopping ??= closeAll()),
  };
}
