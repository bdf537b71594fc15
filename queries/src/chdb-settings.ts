/**
 * Per-call settings on chDB. chDB's connection (`chdb/connection`) applies a call's
 * `clickhouse_settings` as `SET k = v; <query>` on the one session every call shares, so a setting
 * lasts for every later call: the sink's `max_threads: 1` for its inserts made every later report
 * in the embedded server single-threaded, and a report's `log_comment` labelled the queries after it.
 * A ClickHouse server applies them to that request only. This wrapper restores that: a call that
 * does not set a key some earlier call set resets it first (`SET k = DEFAULT; <query>` in the same
 * request). Keys stay on the list for good, so calls that chDB runs in another order than they were
 * made still each see their own settings; a reset costs one short SET statement per call.
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

type Params = { query: string; clickhouse_settings?: Record<string, unknown> };
type Method = (params: Params) => Promise<unknown>;

/**
 * Makes a chDB connection's per-call settings last for that call only. `everyCall` are the settings
 * every call carries (the client's own): they are SET by every call anyway and never reset.
 */
export function settingsPerCall(connection: object, everyCall: Record<string, unknown>): void {
  const sticky = new Set<string>();
  const target = connection as Record<string, unknown>;
  for (const name of METHODS) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    const call = (original as Method).bind(connection);
    target[name] = (params: Params): Promise<unknown> => {
      const settings = params.clickhouse_settings ?? {};
      const reset: string[] = [];
      for (const key of sticky) if (settings[key] === undefined) reset.push(key);
      for (const [key, value] of Object.entries(settings))
        if (value !== undefined && !(key in everyCall) && !NOT_SET.has(key)) sticky.add(key);
      if (reset.length === 0) return call(params);
      const resets = reset.map((k) => `${k} = DEFAULT`).join(', ');
      return call({ ...params, query: `SET ${resets}; ${params.query}` });
    };
  }
}
