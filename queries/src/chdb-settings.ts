/**
 * Per-call settings on chDB. chDB's connection (`chdb/connection`) applies a call's
 * `clickhouse_settings` as `SET k = v; <query>` on the one session every call shares, so a setting
 * lasts for every later call: the sink's `max_threads: 1` for its inserts made every later report
 * in the embedded server single-threaded, and a report's `log_comment` labelled the queries after it.
 * A ClickHouse server applies them to that request only. This wrapper restores that: a call that
 * does not set a key some earlier call set resets it first (`SET k = DEFAULT; <query>` in the same
 * request). Keys stay on the list for good, so calls that chDB runs in another order than they were
 * made still each see their own settings; a reset costs one short SET statement per call.
 *
 * It also drops what only costs time on chDB: the client's settings for every call are SET once,
 * by the first call, and not again while a call keeps their values (each SET statement costs
 * chDB about 0.1–0.3 ms of CPU, more than a small query's own work), and `log_comment` is never
 * SET (chDB keeps no query log to label; a ClickHouse server still gets it).
 */

/** The connection methods that take `clickhouse_settings` and a `query`. */
const METHODS = ['query', 'exec', 'command', 'insert'] as const;

/**
 * Settings chDB drops instead of SETting (HTTP-only ones and `default_format`, which it maps to its
 * own option; see chdb-connection.js): never sticky, never reset (chDB does not know them).
 */
const NOT_SET = new Set([
  'wait_end_of_query',
  'send_progress_in_http_headers',
  'http_response_buffer_size',
  'http_headers_progress_interval_ms',
  'http_send_progress_interval_ms',
  'enable_http_compression',
  'http_zlib_compression_level',
  'http_response_compression_method',
  'http_native_compression_disable_checksumming_on_decompress',
  'default_format',
]);

/** Labels a query in the server's query log; chDB has none. */
const INERT = new Set(['log_comment']);

type Settings = Record<string, string | number | boolean | undefined>;
type Params = { query: string; clickhouse_settings?: Settings };
type Method = (params: Params) => Promise<unknown>;

/**
 * Makes a chDB connection's per-call settings last for that call only. `everyCall` are the settings
 * every call carries (the client's own): SET by the first call, then only when a call changes one
 * (and by the calls after it, to put it back).
 */
export function settingsPerCall(connection: object, everyCall: Settings): void {
  const sticky = new Set<string>();
  /** Keys of `everyCall` some call set to another value: sent with every call since. */
  const changed = new Set<string>();
  let first = true;
  const target = connection as Record<string, unknown>;
  for (const name of METHODS) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    const call = (original as Method).bind(connection);
    target[name] = (params: Params): Promise<unknown> => {
      const given = params.clickhouse_settings ?? {};
      const settings: Settings = {};
      for (const [key, value] of Object.entries(given)) {
        if (value === undefined || INERT.has(key)) continue;
        if (key in everyCall) {
          if (String(value) !== String(everyCall[key])) changed.add(key);
          else if (!first) continue;
        }
        settings[key] = value;
      }
      // Put back what an earlier call changed (for good: calls may run in another order).
      for (const key of changed) if (settings[key] === undefined) settings[key] = everyCall[key];
      first = false;
      const reset: string[] = [];
      for (const key of sticky) if (settings[key] === undefined) reset.push(key);
      for (const key of Object.keys(settings))
        if (!(key in everyCall) && !NOT_SET.has(key)) sticky.add(key);
      const query =
        reset.length === 0
          ? params.query
          : `SET ${reset.map((k) => `${k} = DEFAULT`).join(', ')}; ${params.query}`;
      return call({ ...params, query, clickhouse_settings: settings });
    };
  }
}
