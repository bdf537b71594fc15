import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { StoreOptions } from '@harness-meter/queries';
import { ConfigError } from './errors.js';
import type { LogLevel } from './logger.js';
import { HTTP_LIMIT_DEFAULTS, type HttpLimits } from './ingest/limits.js';
import { DECODE_DEFAULTS, type DecodeLimits } from './decode/limits.js';

/** Every setting of the server side, with its default. The environment is read here only. */
export interface Config {
  /** HM_HOST: interface the OTLP/HTTP receiver and the API listen on. */
  host: string;
  /** HM_PORT: port of the receiver and the API (4318 is the OTLP/HTTP default). */
  port: number;
  /** HM_DATA_DIR: chDB data folder (embedded ClickHouse). */
  dataDir: string;
  /** HM_CLICKHOUSE_URL: a ClickHouse server instead of chDB (e.g. http://localhost:8123). */
  clickhouseUrl: string | undefined;
  clickhouseUser: string | undefined;
  clickhousePassword: string | undefined;
  /** HM_CLICKHOUSE_DATABASE */
  database: string;
  /** HM_MAX_BODY_BYTES: largest request body accepted, compressed and after decompression. */
  maxBodyBytes: number;
  /** HM_BATCH_MAX_SPANS: a sink batch is flushed when it holds this many spans. */
  batchMaxSpans: number;
  /** HM_BATCH_MAX_WAIT_MS: ... or when its oldest span waited this long. */
  batchMaxWaitMs: number;
  /** HM_API_URL: where CLI commands find a running server (default: http://HM_HOST:HM_PORT). */
  apiUrl: string;
  /** HM_LOG_LEVEL: debug | info | warn | error | silent */
  logLevel: LogLevel;
  /** Kafka settings; `brokers` empty = embedded mode (no Kafka). */
  kafka: KafkaConfig;
  /** HM_SHUTDOWN_TIMEOUT_MS: longest a stop may take before the process exits anyway. */
  shutdownTimeoutMs: number;
  /** HM_DETECT_IDLE_MS: a session is scanned for redundancy once idle this long (reports scan at once). */
  detectIdleMs: number;
  /** HM_PRICES_FILE: JSON price overrides (discounts, custom models, price changes) on top of the bundled table. */
  pricesFile: string | undefined;
  /** HM_ALERTS*, HM_ALERT_WEBHOOK_*: alert rules and delivery (README, "Alerts"). */
  alerts: AlertsConfig;
  /** HM_GITHUB_WEBHOOK_SECRET: secret of the GitHub webhook (POST /v1/github/webhook); unset = webhooks refused. */
  githubWebhookSecret: string | undefined;
  /**
   * HM_ATTRIBUTE_COUNT_LIMIT (default 128, as OTEL_ATTRIBUTE_COUNT_LIMIT) and
   * HM_ATTRIBUTE_VALUE_LENGTH_LIMIT (default 16384 characters): what a stored span keeps.
   */
  limits: DecodeLimits;
  /** Labels that make a GitHub issue an incident (`issues` webhook): HM_INCIDENT_LABELS. @default ['bug', 'incident'] */
  incidentLabels: string[];
  /** HM_AUTH: `on` (default: keys required once one exists, or off loopback) or `off` (no checks; logged loudly). */
  auth: 'on' | 'off';
  /** HM_API_KEY: the key CLI commands send to a running server (Authorization: Bearer). */
  apiKey: string | undefined;
  /** HM_ALLOWED_HOSTS: extra Host header names (comma-separated) accepted besides the loopback names. */
  allowedHosts: string[];
  /** HM_HTTP_HEADERS_TIMEOUT_MS, HM_HTTP_REQUEST_TIMEOUT_MS, HM_HTTP_KEEP_ALIVE_TIMEOUT_MS, HM_HTTP_MAX_CONNECTIONS, HM_HTTP_MAX_REQUESTS_PER_SOCKET. */
  httpLimits: HttpLimits;
  /** HM_INGEST_WAL, HM_INGEST_WAL_MAX_BYTES: the embedded ingest write-ahead log (README, "Ingest write-ahead log"). */
  ingestWal: IngestWalConfig;
  /**
   * HM_CHDB_INSERT_FORMAT: how the sink inserts spans into chDB: `rowbinary` (default; RowBinary
   * through a temporary file in /dev/shm, else the data folder) or `compact` (JSONCompactEachRow
   * through chDB's raw insert). A ClickHouse server always gets JSONCompactEachRow.
   */
  chdbInsertFormat: 'compact' | 'rowbinary';
}

export interface IngestWalConfig {
  /** HM_INGEST_WAL: `off` (default; a 200 means stored), `on` (<HM_DATA_DIR>/ingest-wal) or a folder. */
  dir: string | undefined;
  /** HM_INGEST_WAL_MAX_BYTES: log bytes not yet stored above which requests get 503. @default 536870912 */
  maxBytes: number;
}

function ingestWalConfig(env: Env, dataDir: string): IngestWalConfig {
  const raw = (env.HM_INGEST_WAL ?? '').trim();
  const mode = raw.toLowerCase();
  const dir =
    mode === '' || mode === 'off'
      ? undefined
      : mode === 'on'
        ? resolve(dataDir, 'ingest-wal')
        : resolve(raw);
  return {
    dir,
    maxBytes: int(
      env,
      'HM_INGEST_WAL_MAX_BYTES',
      512 * 1024 * 1024,
      1024 * 1024,
      Number.MAX_SAFE_INTEGER,
      '536870912',
    ),
  };
}

function httpLimits(env: Env): HttpLimits {
  const d = HTTP_LIMIT_DEFAULTS;
  return {
    headersTimeoutMs: int(
      env,
      'HM_HTTP_HEADERS_TIMEOUT_MS',
      d.headersTimeoutMs,
      100,
      600_000,
      '10000',
    ),
    requestTimeoutMs: int(
      env,
      'HM_HTTP_REQUEST_TIMEOUT_MS',
      d.requestTimeoutMs,
      100,
      3_600_000,
      '60000',
    ),
    keepAliveTimeoutMs: int(
      env,
      'HM_HTTP_KEEP_ALIVE_TIMEOUT_MS',
      d.keepAliveTimeoutMs,
      100,
      600_000,
      '5000',
    ),
    maxConnections: int(env, 'HM_HTTP_MAX_CONNECTIONS', d.maxConnections, 1, 1_000_000, '1024'),
    maxRequestsPerSocket: int(
      env,
      'HM_HTTP_MAX_REQUESTS_PER_SOCKET',
      d.maxRequestsPerSocket,
      0,
      1_000_000,
      '1000',
    ),
  };
}

function chdbInsertFormat(env: Env): 'compact' | 'rowbinary' {
  const v = (env.HM_CHDB_INSERT_FORMAT || 'rowbinary').trim().toLowerCase();
  if (v !== 'compact' && v !== 'rowbinary')
    throw new ConfigError(
      `HM_CHDB_INSERT_FORMAT=${JSON.stringify(env.HM_CHDB_INSERT_FORMAT)} is not valid: use rowbinary (the default) or compact (JSONCompactEachRow text).`,
    );
  return v;
}

function authMode(env: Env): 'on' | 'off' {
  const v = (env.HM_AUTH || 'on').toLowerCase();
  if (v !== 'on' && v !== 'off')
    throw new ConfigError(
      `HM_AUTH=${JSON.stringify(env.HM_AUTH)} is not valid: use on (the default) or off (no key checks at all).`,
    );
  return v;
}

function hostList(env: Env): string[] {
  const raw = env.HM_ALLOWED_HOSTS ?? '';
  const hosts = raw
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
  for (const h of hosts)
    if (!/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/.test(h))
      throw new ConfigError(
        `HM_ALLOWED_HOSTS=${JSON.stringify(raw)} is not valid: a comma-separated list of host names without port, e.g. HM_ALLOWED_HOSTS=meter.internal,10.0.0.5.`,
      );
  return hosts;
}

export interface AlertsConfig {
  /** HM_ALERTS: `on` (default) evaluates alert rules in the pipeline; `off` does not. */
  enabled: boolean;
  /** HM_ALERTS_FILE: JSON rules file; unset: the default rules. */
  file: string | undefined;
  /** HM_ALERT_WEBHOOK_URL: where notices are POSTed (JSON, Slack-compatible `text`). */
  webhookUrl: string | undefined;
  /** HM_ALERT_WEBHOOK_SECRET: HMAC-SHA256 key of the X-HarnessMeter-Signature header. */
  webhookSecret: string | undefined;
  /** HM_ALERTS_INTERVAL_MS: evaluation at least this often. */
  intervalMs: number;
  /** HM_ALERTS_MIN_INTERVAL_MS: new spans start a round at most this often (capped at intervalMs). */
  minIntervalMs: number;
}

function alertsConfig(env: Env): AlertsConfig {
  const enabled = (env.HM_ALERTS || 'on').toLowerCase();
  if (enabled !== 'on' && enabled !== 'off')
    throw new ConfigError(
      `HM_ALERTS=${JSON.stringify(env.HM_ALERTS)} is not valid: use on or off.`,
    );
  const file = env.HM_ALERTS_FILE?.trim() || undefined;
  if (file !== undefined && !existsSync(file))
    throw new ConfigError(
      `HM_ALERTS_FILE=${JSON.stringify(file)} does not exist: give the path of a JSON rules file, e.g. HM_ALERTS_FILE=./examples/alerts.json.`,
    );
  const webhookUrl = env.HM_ALERT_WEBHOOK_URL?.trim() || undefined;
  if (webhookUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(webhookUrl))
    throw new ConfigError(
      `HM_ALERT_WEBHOOK_URL=${JSON.stringify(webhookUrl)} is not valid: expected an http(s) URL, e.g. HM_ALERT_WEBHOOK_URL=https://hooks.slack.com/services/T000/B000/XXXX.`,
    );
  return {
    enabled: enabled === 'on',
    file: file === undefined ? undefined : resolve(file),
    webhookUrl,
    webhookSecret: env.HM_ALERT_WEBHOOK_SECRET || undefined,
    intervalMs: int(env, 'HM_ALERTS_INTERVAL_MS', 10_000, 1000, 3_600_000, '10000'),
    minIntervalMs: int(env, 'HM_ALERTS_MIN_INTERVAL_MS', 5_000, 100, 3_600_000, '5000'),
  };
}

export interface KafkaConfig {
  /** HM_KAFKA_BROKERS: comma-separated host:port list. */
  brokers: string[];
  /** HM_KAFKA_CLIENT_ID */
  clientId: string;
  /** HM_KAFKA_TOPIC_OTLP_SPANS: raw OTLP export requests, as the Collector's Kafka exporter writes them. */
  otlpSpansTopic: string;
  /** HM_KAFKA_TOPIC_OTLP_LOGS: raw OTLP logs export requests (agents' own events; the Collector's default topic). */
  otlpLogsTopic: string;
  /** HM_KAFKA_OTLP_ENCODING: otlp_proto (default) or otlp_json, the Collector exporter's `encoding`. */
  otlpEncoding: 'otlp_proto' | 'otlp_json';
  /** HM_KAFKA_TOPIC_SESSION_SPANS: normalized spans keyed by session (the repartition topic). */
  sessionSpansTopic: string;
  /** HM_KAFKA_TOPIC_DEAD_LETTERS: messages that cannot be processed, with the reason and the original bytes. */
  deadLetterTopic: string;
  /** HM_KAFKA_GROUP_PREFIX: consumer groups are <prefix>-repartition and <prefix>-enrich. */
  groupPrefix: string;
  /** HM_KAFKA_PARTITIONS: partitions of the topics harness-meter creates. */
  partitions: number;
  /** HM_KAFKA_TOPIC_OTLP_METRICS: raw OTLP metrics export requests (agents' usage counters; the Collector's default topic). */
  otlpMetricsTopic: string;
  /** HM_LEASE_TTL_MS: how long the leader lease (alert evaluation, rollup repair) lasts without a renewal. */
  leaseTtlMs: number;
  /**
   * HM_KAFKA_SESSION_FORMAT: the session-topic message version repartition writes: 3 (deltas) or 2
   * (what enrich processes before 3 read; for a rolling upgrade). @default 3
   */
  sessionFormat: 2 | 3;
}

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 4318,
  dataDir: './.harness-meter',
  database: 'harness_meter',
  maxBodyBytes: 16 * 1024 * 1024,
  batchMaxSpans: 5000,
  batchMaxWaitMs: 200,
  logLevel: 'info' as LogLevel,
  shutdownTimeoutMs: 30_000,
  detectIdleMs: 60_000,
  kafkaClientId: 'harness-meter',
  otlpSpansTopic: 'otlp_spans',
  otlpLogsTopic: 'otlp_logs',
  otlpMetricsTopic: 'otlp_metrics',
  leaseTtlMs: 15_000,
  sessionSpansTopic: 'hm_session_spans',
  deadLetterTopic: 'hm_dead_letters',
  groupPrefix: 'harness-meter',
  partitions: 6,
} as const;

const TOPIC_RE = /^[A-Za-z0-9._-]{1,249}$/;

function topic(env: Env, name: string, fallback: string): string {
  const v = env[name] || fallback;
  if (!TOPIC_RE.test(v))
    throw new ConfigError(
      `${name}=${JSON.stringify(v)} is not a valid Kafka topic name: letters, digits, . _ - only, e.g. ${name}=${fallback}.`,
    );
  return v;
}

function kafkaConfig(env: Env): KafkaConfig {
  const raw = env.HM_KAFKA_BROKERS ?? '';
  const brokers = raw
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  for (const b of brokers) {
    if (!/^[^\s:/]+:\d{1,5}$/.test(b))
      throw new ConfigError(
        `HM_KAFKA_BROKERS=${JSON.stringify(raw)} is not valid: a comma-separated list of host:port, e.g. HM_KAFKA_BROKERS=127.0.0.1:9092,127.0.0.1:9093.`,
      );
  }
  const encoding = env.HM_KAFKA_OTLP_ENCODING || 'otlp_proto';
  if (encoding !== 'otlp_proto' && encoding !== 'otlp_json') {
    throw new ConfigError(
      `HM_KAFKA_OTLP_ENCODING=${JSON.stringify(encoding)} is not supported: use otlp_proto or otlp_json (the Collector's Kafka exporter encodings).`,
    );
  }
  return {
    brokers,
    clientId: env.HM_KAFKA_CLIENT_ID || DEFAULTS.kafkaClientId,
    otlpSpansTopic: topic(env, 'HM_KAFKA_TOPIC_OTLP_SPANS', DEFAULTS.otlpSpansTopic),
    otlpLogsTopic: topic(env, 'HM_KAFKA_TOPIC_OTLP_LOGS', DEFAULTS.otlpLogsTopic),
    otlpEncoding: encoding,
    sessionSpansTopic: topic(env, 'HM_KAFKA_TOPIC_SESSION_SPANS', DEFAULTS.sessionSpansTopic),
    deadLetterTopic: topic(env, 'HM_KAFKA_TOPIC_DEAD_LETTERS', DEFAULTS.deadLetterTopic),
    groupPrefix: topic(env, 'HM_KAFKA_GROUP_PREFIX', DEFAULTS.groupPrefix),
    partitions: int(env, 'HM_KAFKA_PARTITIONS', DEFAULTS.partitions, 1, 1000, '6'),
    otlpMetricsTopic: topic(env, 'HM_KAFKA_TOPIC_OTLP_METRICS', DEFAULTS.otlpMetricsTopic),
    leaseTtlMs: int(env, 'HM_LEASE_TTL_MS', DEFAULTS.leaseTtlMs, 3000, 600_000, '15000'),
    sessionFormat: int(env, 'HM_KAFKA_SESSION_FORMAT', 3, 2, 3, '3') as 2 | 3,
  };
}

type Env = Record<string, string | undefined>;

function int(
  env: Env,
  name: string,
  fallback: number,
  min: number,
  max: number,
  example: string,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(
      `${name}=${JSON.stringify(raw)} is not valid: expected an integer from ${min} to ${max}, e.g. ${name}=${example}.`,
    );
  }
  return n;
}

/** Turns the environment into validated options; a bad value fails here with what to change. */
/** HM_INCIDENT_LABELS=bug,incident,sev1: comma-separated; unset or empty: bug, incident. */
function incidentLabels(raw: string | undefined): string[] {
  const labels = (raw ?? '')
    .split(',')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return labels.length > 0 ? labels : ['bug', 'incident'];
}

export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const host = env.HM_HOST || DEFAULTS.host;
  const port = int(env, 'HM_PORT', DEFAULTS.port, 0, 65535, '4318');
  const logLevel = (env.HM_LOG_LEVEL || DEFAULTS.logLevel) as LogLevel;
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(logLevel)) {
    throw new ConfigError(
      `HM_LOG_LEVEL=${JSON.stringify(env.HM_LOG_LEVEL)} is not valid: use debug, info, warn, error or silent.`,
    );
  }
  const database = env.HM_CLICKHOUSE_DATABASE || DEFAULTS.database;
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(database)) {
    throw new ConfigError(
      `HM_CLICKHOUSE_DATABASE=${JSON.stringify(database)} is not valid: letters, digits and _ only, e.g. HM_CLICKHOUSE_DATABASE=harness_meter.`,
    );
  }
  const clickhouseUrl = env.HM_CLICKHOUSE_URL || undefined;
  if (clickhouseUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(clickhouseUrl)) {
    throw new ConfigError(
      `HM_CLICKHOUSE_URL=${JSON.stringify(clickhouseUrl)} is not valid: expected an http(s) URL, e.g. HM_CLICKHOUSE_URL=http://localhost:8123.`,
    );
  }
  const pricesRaw = env.HM_PRICES_FILE?.trim() || undefined;
  if (pricesRaw !== undefined && !existsSync(pricesRaw)) {
    throw new ConfigError(
      `HM_PRICES_FILE=${JSON.stringify(pricesRaw)} does not exist: give the path of a JSON overrides file, e.g. HM_PRICES_FILE=./prices.overrides.json (see the README, "Override prices and re-price").`,
    );
  }
  const apiUrl =
    env.HM_API_URL || `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`;
  if (!/^https?:\/\/[^\s]+$/.test(apiUrl)) {
    throw new ConfigError(
      `HM_API_URL=${JSON.stringify(apiUrl)} is not valid: expected an http(s) URL, e.g. HM_API_URL=http://127.0.0.1:4318.`,
    );
  }
  const dataDir = resolve(env.HM_DATA_DIR || DEFAULTS.dataDir);
  return {
    host,
    port,
    dataDir,
    clickhouseUrl,
    clickhouseUser: env.HM_CLICKHOUSE_USER || undefined,
    clickhousePassword: env.HM_CLICKHOUSE_PASSWORD || undefined,
    database,
    maxBodyBytes: int(
      env,
      'HM_MAX_BODY_BYTES',
      DEFAULTS.maxBodyBytes,
      1024,
      1024 * 1024 * 1024,
      '16777216',
    ),
    batchMaxSpans: int(env, 'HM_BATCH_MAX_SPANS', DEFAULTS.batchMaxSpans, 1, 1_000_000, '5000'),
    batchMaxWaitMs: int(env, 'HM_BATCH_MAX_WAIT_MS', DEFAULTS.batchMaxWaitMs, 0, 60_000, '200'),
    apiUrl,
    logLevel,
    kafka: kafkaConfig(env),
    shutdownTimeoutMs: int(
      env,
      'HM_SHUTDOWN_TIMEOUT_MS',
      DEFAULTS.shutdownTimeoutMs,
      100,
      600_000,
      '30000',
    ),
    detectIdleMs: int(env, 'HM_DETECT_IDLE_MS', DEFAULTS.detectIdleMs, 0, 86_400_000, '60000'),
    pricesFile: pricesRaw === undefined ? undefined : resolve(pricesRaw),
    alerts: alertsConfig(env),
    githubWebhookSecret: env.HM_GITHUB_WEBHOOK_SECRET || undefined,
    auth: authMode(env),
    apiKey: env.HM_API_KEY?.trim() || undefined,
    allowedHosts: hostList(env),
    httpLimits: httpLimits(env),
    incidentLabels: incidentLabels(env.HM_INCIDENT_LABELS),
    limits: {
      attributeCountLimit: int(
        env,
        'HM_ATTRIBUTE_COUNT_LIMIT',
        DECODE_DEFAULTS.attributeCountLimit,
        1,
        10_000,
        '128',
      ),
      attributeValueLengthLimit: int(
        env,
        'HM_ATTRIBUTE_VALUE_LENGTH_LIMIT',
        DECODE_DEFAULTS.attributeValueLengthLimit,
        64,
        1_048_576,
        '16384',
      ),
    },
    ingestWal: ingestWalConfig(env, dataDir),
    chdbInsertFormat: chdbInsertFormat(env),
    ...overrides,
  };
}

/** Where the store lives, for openStore(). */
/** A server waits this long for the chDB folder when a previous process is still letting go of it. */
export const SERVER_LOCK_WAIT_MS = 15_000;

export function storeOptions(config: Config, waitForLockMs = 0): StoreOptions {
  if (config.clickhouseUrl === undefined)
    return { kind: 'chdb', dataDir: config.dataDir, waitForLockMs };
  return {
    kind: 'server',
    url: config.clickhouseUrl,
    ...(config.clickhouseUser === undefined ? {} : { username: config.clickhouseUser }),
    ...(config.clickhousePassword === undefined ? {} : { password: config.clickhousePassword }),
  };
}

/** Where `harness-meter import claude-code|codex|gemini` looks by default, and keeps its state. */
export interface TranscriptConfig {
  /** CLAUDE_CONFIG_DIR (comma-separated; each + /projects), else ~/.claude/projects and ~/.config/claude/projects. */
  claudeDirs: string[];
  /** CODEX_HOME + /sessions, else ~/.codex/sessions. */
  codexDir: string;
  /** GEMINI_DATA_DIR, else ~/.gemini/tmp (chat recordings sit in <project>/chats/). */
  geminiDir: string;
  /** HM_IMPORT_STATE_FILE: what was imported per file (size, mtime, offset), default <HM_DATA_DIR>/transcript-import-state.json. */
  stateFile: string;
}

/** The transcript importers' defaults, from the agents' own variables (as the agents read them). */
export function transcriptConfig(env: Env = process.env, dataDir?: string): TranscriptConfig {
  const home = env.HOME || env.USERPROFILE || '.';
  const claude = (env.CLAUDE_CONFIG_DIR ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '')
    .map((d) => resolve(d, 'projects'));
  return {
    claudeDirs:
      claude.length > 0
        ? claude
        : [resolve(home, '.claude', 'projects'), resolve(home, '.config', 'claude', 'projects')],
    codexDir: resolve(env.CODEX_HOME || resolve(home, '.codex'), 'sessions'),
    geminiDir: resolve(env.GEMINI_DATA_DIR || resolve(home, '.gemini', 'tmp')),
    stateFile: resolve(
      env.HM_IMPORT_STATE_FILE ||
        resolve(
          dataDir ?? resolve(env.HM_DATA_DIR || DEFAULTS.dataDir),
          'transcript-import-state.json',
        ),
    ),
  };
}
