import type { ClickHouseClient } from '@harness-meter/queries';
import type { Config } from '../config.js';
import type { DetectStage } from '../detect/index.js';
import { PipelineError } from '../errors.js';
import type { PostHandler } from '../ingest/server.js';
import type { Logger } from '../logger.js';
import { parseTime } from '../report/params.js';
import type { SpanSink } from '../sink/sink.js';
import { loadRules, type AlertRule } from './rules.js';
import { startAlertStage, type AlertEngineOptions, type AlertStage } from './runner.js';

/** Rules that read redundancy findings: the detect stage catches up before they are evaluated. */
const needsFindings = (rules: readonly AlertRule[]): boolean =>
  rules.some(
    (r) => r.type === 'waste_share' || (r.type === 'runaway' && r.maxOccurrences !== undefined),
  );

/** The alert engine's settings from the configuration (rules file loaded and validated here). */
export function alertEngineOptions(
  client: ClickHouseClient,
  config: Config,
  logger: Logger,
): AlertEngineOptions {
  return {
    client,
    db: config.database,
    rules: loadRules(config.alerts.file),
    logger,
    webhook:
      config.alerts.webhookUrl === undefined
        ? undefined
        : { url: config.alerts.webhookUrl, secret: config.alerts.webhookSecret },
  };
}

/**
 * How far past the server's clock an on-demand check may be asked to run. A check in the future
 * would record `resolved` states early and silence alerts that fire later.
 */
export const MAX_CHECK_SKEW_MS = 5 * 60_000;

/** The `at` of POST /api/v1/alerts/check: now when absent; never beyond the clock skew. */
export function checkInstant(at: string | null, now: Date = new Date()): Date {
  if (!at) return now;
  const when = parseTime(at, '--at', now);
  if (when.getTime() > now.getTime() + MAX_CHECK_SKEW_MS)
    throw new PipelineError(
      'BAD_REQUEST',
      `--at ${JSON.stringify(at)} is in the future (${when.toISOString()}, server time ${now.toISOString()}): a check may run at most ${MAX_CHECK_SKEW_MS / 60_000} minutes ahead, since it records resolved alerts.`,
    );
  return when;
}

export interface PipelineAlerts {
  /** POST /api/v1/alerts/check[?at=TIME]: evaluates now (or at TIME) and answers what changed. */
  post: Record<string, PostHandler>;
  stop(): Promise<void>;
}

/**
 * The alert stage of a running server (embedded, or the enrich role in Kafka mode): a round at most
 * every HM_ALERTS_MIN_INTERVAL_MS while new spans arrive, and at least every HM_ALERTS_INTERVAL_MS.
 */
export function startPipelineAlerts(deps: {
  client: ClickHouseClient;
  config: Config;
  logger: Logger;
  sink: SpanSink;
  detect: DetectStage;
  /** Several processes on one store: only the holder of this lease evaluates. @default always evaluate */
  lease?: { held(): boolean; holderSeen(): string };
}): PipelineAlerts {
  if (!deps.config.alerts.enabled) {
    const off: PostHandler = () =>
      Promise.reject(
        new PipelineError('BAD_REQUEST', 'Alerts are off on this server (HM_ALERTS=off).'),
      );
    return { post: { '/api/v1/alerts/check': off }, stop: () => Promise.resolve() };
  }
  const options = alertEngineOptions(deps.client, deps.config, deps.logger);
  const scan = needsFindings(options.rules);
  // Rounds read findings as the detect stage stores them (sessions idle HM_DETECT_IDLE_MS); an
  // on-demand check scans changed sessions first.
  const stage: AlertStage = startAlertStage(
    { ...options, beforeEvaluate: () => deps.sink.flush() },
    {
      intervalMs: deps.config.alerts.intervalMs,
      minIntervalMs: deps.config.alerts.minIntervalMs,
      changes: () => deps.sink.storedBatches(),
      ...(deps.lease ? { leading: () => deps.lease?.held() ?? true } : {}),
    },
  );
  deps.logger.info('alerts evaluating', {
    rules: options.rules.map((r) => r.id),
    webhook: options.webhook?.url ?? null,
  });
  return {
    post: {
      '/api/v1/alerts/check': async ({ params }) => {
        const when = checkInstant(params.get('at'));
        if (deps.lease && !deps.lease.held())
          throw new PipelineError(
            'SINK_FAILED',
            `This process does not hold the leader lease (holder: ${deps.lease.holderSeen() || 'none yet'}); only the holder evaluates alerts. Call the holder, or retry.`,
            { retriable: true },
          );
        if (scan) {
          await deps.sink.flush();
          await deps.detect.catchUp();
        }
        const result = await stage.check(when);
        return { status: 200, body: result };
      },
    },
    stop: () => stage.stop(),
  };
}
