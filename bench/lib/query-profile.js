// Where a server's store time goes, for the ingest bench's preload mode (HM_BENCH_INGEST_PROFILE=1).
// chDB keeps no system.query_log, so this wraps the client's methods (query, command, insert, exec)
// on the prototype, before the server opens its store, and sums the wall time per statement kind: the
// statement's log_comment when it has one, else its first words. Wall time includes the wait for
// chDB (one statement at a time), so the sums say who holds the store, which is what slows ingest.
import { ClickHouseClient } from '@clickhouse/client';

const totals = new Map();

/** The statement's kind: its log_comment, else its first words with table names kept. */
function labelOf(method, params) {
  const comment = params?.clickhouse_settings?.log_comment;
  if (typeof comment === 'string' && comment !== '') return comment;
  if (method === 'insert') return `insert ${params?.table ?? ''}`;
  const sql = String(params?.query ?? '')
    .replace(/\s+/g, ' ')
    .trim();
  return sql.slice(0, 70);
}

/** Wraps the client's statement methods once; returns snapshot(), which gives and resets the sums. */
export function installQueryProfile() {
  // The methods live on client-common's base class (which createClient instantiates) and some are
  // overridden by the Node subclass: wrap every definition along the chain.
  for (let proto = ClickHouseClient.prototype; proto; proto = Object.getPrototypeOf(proto))
    for (const method of ['query', 'command', 'insert', 'exec'])
      if (Object.hasOwn(proto, method)) wrap(proto, method);
  return {
    /** [{ label, n, ms }] since the last snapshot, largest first. */
    snapshot() {
      const out = [...totals.entries()]
        .map(([label, v]) => ({ label, n: v.n, ms: Math.round(v.ms) }))
        .sort((a, b) => b.ms - a.ms);
      totals.clear();
      return out;
    },
  };
}

/** Replaces `proto[method]` with a timed copy (once). */
function wrap(proto, method) {
  const original = proto[method];
  if (typeof original !== 'function' || original.profiled) return;
  const wrapped = async function (params) {
    const t = performance.now();
    try {
      const result = await original.call(this, params);
      // A query's rows are read after it resolves: its time ends when they are read.
      if (method === 'query' && result && typeof result.text === 'function') {
        for (const reader of ['text', 'json']) {
          const read = result[reader].bind(result);
          result[reader] = async () => {
            try {
              return await read();
            } finally {
              add(labelOf(method, params), performance.now() - t);
            }
          };
        }
        return result;
      }
      add(labelOf(method, params), performance.now() - t);
      return result;
    } catch (err) {
      add(`${labelOf(method, params)} (failed)`, performance.now() - t);
      throw err;
    }
  };
  wrapped.profiled = true;
  proto[method] = wrapped;
}

/** A query is counted once its rows are read (its whole time); other statements when they resolve. */
function add(label, ms) {
  const v = totals.get(label) ?? { n: 0, ms: 0 };
  v.n++;
  v.ms += ms;
  totals.set(label, v);
}

/** Prints the sums every `ms` on stderr (one line per window, the largest kinds first). */
export function printProfileEvery(profile, ms) {
  const t0 = performance.now();
  setInterval(() => {
    const rows = profile.snapshot().filter((r) => r.ms >= 50);
    const at = ((performance.now() - t0) / 1000).toFixed(0);
    console.error(
      `  [profile +${at}s] ${rows.map((r) => `${r.label.replace(/^harness-meter /, '')}: ${r.n}× ${r.ms} ms`).join(' | ')}`,
    );
  }, ms).unref();
}
