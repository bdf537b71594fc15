import {
  prelinkBusy,
  sessionCalls,
  staleSessions,
  writeScan,
  type ClickHouseClient,
  type SessionCallRow,
  type WasteFindingRow,
} from '@harness-meter/queries';
import { silentLogger, type Logger } from '../logger.js';
import { computeCost, type PriceBook } from '../price/index.js';
import { priceFindings, type UnitPrices } from './cost.js';
import { startBackgroundPrelink } from './prelink.js';
import {
  findRedundancy,
  type CallClass,
  type SessionCall,
} from '@harness-meter/instrumentation/rules';

const CLASSES: readonly string[] = ['read', 'write', 'search', 'exec', 'fetch', 'other'];

/** `mcp__server__tool` → `server` (Claude Code's naming of MCP tools); '' for built-in tools. */
export function mcpServerOf(toolName: string): string {
  const m = /^mcp__(.+?)__/.exec(toolName);
  return m?.[1] ?? '';
}

const optionalInt = (text: string): number | undefined =>
  /^-?\d+$/.test(text) ? Number(text) : undefined;

export function toSessionCall(r: SessionCallRow): SessionCall {
  const at = BigInt(r.at);
  const end = BigInt(r.end_at);
  if (r.compaction === 'true') return { spanId: r.span_id, at, end, type: 'compaction' };
  if (r.span_type === 'llm')
    return { spanId: r.span_id, at, end, type: 'llm', outputTokens: r.output_tokens };
  const call: SessionCall = {
    spanId: r.span_id,
    at,
    end,
    type: 'tool',
    toolName: r.tool_name,
    toolClass: CLASSES.includes(r.tool_class) ? (r.tool_class as CallClass) : '',
    argsHash: r.args_hash,
    targetHash: r.target_hash,
    resultTokens: r.result_tokens,
    isError: r.is_error === 1,
    resultHash: r.result_hash,
  };
  if (r.before_hash) call.beforeHash = r.before_hash;
  if (r.after_hash) call.afterHash = r.after_hash;
  const rangeStart = optionalInt(r.range_start);
  const rangeEnd = optionalInt(r.range_end);
  if (rangeStart !== undefined) call.rangeStart = rangeStart;
  if (rangeEnd !== undefined) call.rangeEnd = rangeEnd;
  if (r.target_hashes) call.targetHashes = r.target_hashes.split(',');
  if (r.mutates === 'none' || r.mutates === 'paths' || r.mutates === 'all')
    call.mutates = r.mutates;
  if (r.touches) call.touches = r.touches.split(',');
  if (r.transient === 'true') call.transient = true;
  return call;
}

/** Unit prices (pico-USD per token) of an LLM call, from the price book at the call's time. */
function unitPrices(book: PriceBook, r: SessionCallRow): UnitPrices | undefined {
  const row = book.resolve(r.provider, r.model, new Date(Number(BigInt(r.at) / 1_000_000n)));
  if (!row) return undefined;
  // The cost of 1,000 tokens in nano-USD is the price in pico-USD per token (exactly: prices are whole
  // pico-USD). A small count keeps long-context tiers out of it: the base price is what a re-sent result adds.
  const M = 1000;
  const zero = {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    cacheWrite5mTokens: 0,
    cacheWrite1hTokens: 0,
  };
  return {
    input: computeCost(row, { ...zero, inputTokens: M }).inputNanos,
    cacheRead: computeCost(row, { ...zero, inputTokens: M, cacheReadTokens: M }).cacheReadNanos,
    cacheWrite: computeCost(row, {
      ...zero,
      inputTokens: M,
      cacheWriteTokens: M,
      cacheWrite5mTokens: M,
    }).cacheWriteNanos,
    output: computeCost(row, { ...zero, outputTokens: M }).outputNanos,
  };
}

/** Scans one session: loads its calls, finds and prices redundancy, stores the scan. */
export async function scanSession(
  client: ClickHouseClient,
  db: string,
  book: PriceBook,
  session: string,
  scanId: number = Date.now(),
): Promise<WasteFindingRow[]> {
  const rows = await sessionCalls(client, db, session);
  if (rows.length === 0) return [];
  const byId = new Map(rows.map((r) => [r.span_id, r]));
  const calls = rows.map(toSessionCall);
  const findings = priceFindings(
    findRedundancy(calls),
    calls,
    (id) => {
      const r = byId.get(id);
      return r ? unitPrices(book, r) : undefined;
    },
    (id) => ({
      readTokens: byId.get(id)?.cache_read_tokens ?? 0,
      writeTokens: byId.get(id)?.cache_write_tokens ?? 0,
    }),
  );
  const out: WasteFindingRow[] = findings.map((f) => {
    const r = byId.get(f.spanId);
    return {
      session_id: session,
      span_id: f.spanId,
      trace_id: r?.trace_id ?? '',
      scan_id: scanId,
      Timestamp: r?.ts ?? '1970-01-01 00:00:00',
      kind: f.kind,
      repeats_span_id: f.repeatsSpanId,
      tool_name: f.toolName,
      mcp_server: mcpServerOf(f.toolName),
      repo: r?.repo ?? '',
      pr: r?.pr ?? 0,
      developer: r?.developer ?? '',
      team: r?.team ?? '',
      result_tokens: f.resultTokens,
      issue_tokens: f.issueTokens,
      wasted_tokens: f.wastedTokens,
      direct_cost_nanos: f.directCostNanos.toString(),
      carried_tokens: f.carriedTokens,
      carried_cost_nanos: f.carriedCostNanos.toString(),
      loop_length: f.loopLength,
      fully_priced: f.fullyPriced ? 1 : 0,
    };
  });
  const lastIngestedAt = rows.reduce((m, r) => (r.ingested_at > m ? r.ingested_at : m), '');
  await writeScan(client, db, {
    session,
    scanId,
    lastIngestedAt,
    spans: rows.length,
    findings: out,
  });
  return out;
}

export const DETECT_DEFAULTS = {
  /** A session is scanned once it has been idle this long (later spans trigger a new scan). */
  idleMs: 60_000,
  /** How often the detect stage looks for idle sessions. */
  intervalMs: 10_000,
  /** Sessions scanned per round, at most. */
  maxSessionsPerRound: 500,
  /**
   * A report waits for the whole catch-up when at most this many sessions are stale; with more (a bulk
   * load, a backfill) it waits `catchUpWaitMs` and reads the findings already stored while the round
   * goes on in the background. Scanning a session reads its spans: 20 to 250 ms each at 10M stored.
   */
  catchUpAllBelow: 50,
  /** How long a report waits for a large catch-up before it reads the stored findings. */
  catchUpWaitMs: 500,
  /**
   * Then the round holds off scanning this long (between sessions), so the report's queries do not
   * queue behind session scans (one store runs one query at a time; a scan takes up to 300 ms).
   */
  reportQuietMs: 2_000,
  /**
   * …and past that while a linked report (its re-link, then its read) is still queued or running
   * (prelinkBusy), up to this long after the hold-off began: the first report after a 10M-span bulk
   * load re-links everything, which can outlast `reportQuietMs` on a loaded machine, and each of its
   * statements then waited behind a session scan. Bounded so that reports back to back cannot stop
   * detection.
   */
  reportHoldMaxMs: 10_000,
} as const;

/** Scans every session idle for `idleMs` whose spans changed since its last scan. Returns how many. */
export async function scanStaleSessions(
  client: ClickHouseClient,
  db: string,
  book: PriceBook,
  idleMs: number,
  log: Logger = silentLogger,
  signal?: AbortSignal,
  onListed: (stale: number) => void = () => undefined,
  /** Awaited before each session (a report asked the round to hold off). */
  pause: () => Promise<void> = () => Promise.resolve(),
): Promise<number> {
  const sessions = await staleSessions(client, db, {
    idleMs,
    limit: DETECT_DEFAULTS.maxSessionsPerRound,
  });
  onListed(sessions.length);
  for (const s of sessions) {
    // A stop ends the round between sessions: the rest stay stale and are scanned after a restart.
    if (signal?.aborted) break;
    await pause();
    if (signal?.aborted) break;
    const found = await scanSession(client, db, book, s);
    log.debug('session scanned', { session: s, findings: found.length });
  }
  return sessions.length;
}

export interface DetectStage {
  /**
   * Scans everything stale now, idle or not (before a report). Bounded: with more than
   * `catchUpAllBelow` stale sessions it resolves after `catchUpWaitMs` and the round goes on in the
   * background, so a report after a bulk load reads the findings stored so far (logged as pending).
   */
  catchUp(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The detect stage: every `intervalMs`, scans sessions that went idle since their spans last
 * changed. State lives in ClickHouse (session_scans), so a restart loses nothing, and memory does
 * not grow with the number of live sessions.
 */
export function startDetectStage(
  client: ClickHouseClient,
  db: string,
  book: PriceBook,
  log: Logger,
  opts: {
    idleMs?: number;
    intervalMs?: number;
    changes?: () => number;
    /** @default DETECT_DEFAULTS.catchUpAllBelow */
    catchUpAllBelow?: number;
    /** @default DETECT_DEFAULTS.catchUpWaitMs */
    catchUpWaitMs?: number;
    /** @default DETECT_DEFAULTS.reportQuietMs */
    reportQuietMs?: number;
    /** @default DETECT_DEFAULTS.reportHoldMaxMs */
    reportHoldMaxMs?: number;
    /**
     * Re-link spend to PRs in the background after writes (detect/prelink.ts), so linked reports
     * find little left to re-link. Needs `changes`. Off by default: in bench/reports the first report
     * right after a bulk load was slower with it (2,007 ms against 1,387 ms at 2M spans): the
     * report then re-links a list of hours instead of the whole table in one statement, and may queue
     * behind a pass in flight. @default false
     */
    prelink?: boolean;
  } = {},
): DetectStage {
  const idleMs = opts.idleMs ?? DETECT_DEFAULTS.idleMs;
  const abort = new AbortController();
  const allBelow = opts.catchUpAllBelow ?? DETECT_DEFAULTS.catchUpAllBelow;
  const waitMs = opts.catchUpWaitMs ?? DETECT_DEFAULTS.catchUpWaitMs;
  let running: Promise<unknown> = Promise.resolve();
  // A report that stopped waiting for a large catch-up reads while the round holds off until then,
  // or while linked reports are still running, up to reportHoldMaxMs after the hold-off began.
  let quietUntil = 0;
  let holdUntil = 0;
  const holding = (): boolean =>
    Date.now() < quietUntil || (Date.now() < holdUntil && prelinkBusy(client, db));
  const pause = async (): Promise<void> => {
    while (!abort.signal.aborted && holding())
      await new Promise((r) => setTimeout(r, Math.min(100, Math.max(20, quietUntil - Date.now()))));
  };
  const round = (idle: number, onListed?: (stale: number) => void): Promise<void> => {
    const next = running
      .then(() =>
        abort.signal.aborted
          ? 0
          : scanStaleSessions(client, db, book, idle, log, abort.signal, onListed, pause),
      )
      .then(
        () => undefined,
        (err: unknown) =>
          log.warn('detect round failed; will retry', {
            error: err instanceof Error ? err.message : String(err),
          }),
      );
    running = next;
    return next;
  };
  const timer = setInterval(
    () => void round(idleMs),
    opts.intervalMs ?? DETECT_DEFAULTS.intervalMs,
  );
  timer.unref();
  // Reports ask for a catch-up before they read findings. Callers that poll (dashboards, scripts)
  // share the round in progress instead of queueing more, and when nothing was stored since the last
  // round began, that round's findings are current: nothing to scan.
  const changes = opts.changes ?? (() => Number.NaN);
  const prelink =
    opts.changes !== undefined && opts.prelink === true
      ? startBackgroundPrelink(client, db, opts.changes, log)
      : undefined;
  // A large backlog is not waited for: the report gets what is stored once the wait is over.
  let catchingUp: Promise<void> | undefined;
  let scannedAt: number | undefined;
  const catchUp = (): Promise<void> => {
    if (catchingUp) return catchingUp;
    const now = changes();
    if (scannedAt !== undefined && scannedAt === now) return Promise.resolve();
    let listed: (stale: number) => void = () => undefined;
    const stale = new Promise<number>((resolve) => (listed = resolve));
    const done = round(0, listed).finally(() => {
      listed(0); // the round failed before listing: nothing more to wait for
      scannedAt = now;
      catchingUp = undefined;
    });
    catchingUp = stale.then((n) => {
      if (n <= allBelow) return done;
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          quietUntil = Date.now() + (opts.reportQuietMs ?? DETECT_DEFAULTS.reportQuietMs);
          holdUntil = Date.now() + (opts.reportHoldMaxMs ?? DETECT_DEFAULTS.reportHoldMaxMs);
          log.info('report reads stored waste findings; sessions still being scanned', {
            stale: n,
            waitedMs: waitMs,
          });
          resolve();
        }, waitMs);
        timer.unref();
      });
      return Promise.race([done, waited]).finally(() => clearTimeout(timer));
    });
    return catchingUp;
  };
  return {
    catchUp,
    async stop() {
      clearInterval(timer);
      abort.abort();
      await Promise.all([running, prelink?.stop()]);
    },
  };
}
