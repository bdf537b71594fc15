// Generates the linkage dataset inside ClickHouse (chDB) with INSERT … SELECT FROM numbers(), shared by
// bench/linkage.js and bench/reports.js: `spans` spans in sessions of 200 (2/3 LLM calls, 15 s apart)
// spread over [start, end); `prs` PRs (5 events each: opened, pushed, review, check, merged for 80 %)
// in 10 repositories. Session s works on PR (s % prs) + 1; s % 4 says how it links: 0 explicit PR on
// the span, 1 branch feat/<pr>, 2 commit of the PR (branch wip), 3 nothing.
import { toClickHouseTime } from '../../queries/dist/index.js';

export const PER_SESSION = 200;
const CHUNK = 1_000_000;

/** @returns {{ sessions: number, gap: number }} */
export function layout(spans, start, end) {
  const sessions = Math.ceil(spans / PER_SESSION);
  const gap = Math.floor((end.getTime() - start.getTime() - PER_SESSION * 15_000) / sessions);
  return { sessions, gap };
}

export async function insertSpans(
  client,
  db,
  { spans, prs, start, end, from = 0, chunk = CHUNK, onChunk },
) {
  const { gap } = layout(spans, start, end);
  for (let at = from; at < spans; at += chunk) {
    await client.command({
      query: `INSERT INTO {db:Identifier}.spans
       (Timestamp, EndTimestamp, TraceId, SpanId, SpanName, span_type, operation, provider, request_model,
        response_model, model, session_id, developer, team, repo, branch, commit, pr, intent, source,
        input_tokens, output_tokens, cost_nanos, price_id, unpriced, tool_name, tool_class, args_hash,
        target_hash, result_tokens, Duration)
     SELECT
       toDateTime64({start:DateTime64(3, 'UTC')}, 9, 'UTC') + toIntervalMillisecond(s * {gap:UInt64} + k * 15000) AS ts,
       ts + toIntervalMillisecond(1500),
       lower(hex(toUInt128(s))), lower(hex(n)),
       if(k % 3 = 0, 'execute_tool Read', 'chat claude-sonnet-4-5'),
       if(k % 3 = 0, 'tool', 'llm'), if(k % 3 = 0, 'execute_tool', 'chat'), 'anthropic', 'claude-sonnet-4-5',
       'claude-sonnet-4-5', if(k % 3 = 0, '', 'claude-sonnet-4-5'),
       concat('sess-', toString(s)), concat('dev', toString(s % 300)), concat('team', toString(s % 20)),
       concat('https://github.com/acme/repo', toString(p % 10)),
       multiIf(s % 4 = 1, concat('feat/', toString(p)), s % 4 = 2, 'wip', s % 4 = 3, 'scratch', ''),
       if(s % 4 = 2, lower(hex(MD5(concat('sha', toString(p))))), ''),
       if(s % 4 = 0, p, 0), 'implement', 'sdk',
       if(k % 3 = 0, 0, 2000), if(k % 3 = 0, 0, 300),
       if(k % 3 = 0, NULL, toInt64(1000 + n % 1000)), if(k % 3 = 0, '', 'bench'), 0,
       if(k % 3 = 0, 'Read', ''), if(k % 3 = 0, 'read', ''),
       -- every 30th call of a session re-reads the same file: the redundancy rules find something
       if(k % 3 = 0, lower(hex(MD5(concat(toString(s), '/', toString(k % 30))))), ''),
       if(k % 3 = 0, lower(hex(MD5(concat(toString(s), '/f', toString(k % 30))))), ''),
       if(k % 3 = 0, 800, 0), 1500000000
     FROM (SELECT number AS n, intDiv(number, ${PER_SESSION}) AS s, number % ${PER_SESSION} AS k,
                  toUInt32(intDiv(number, ${PER_SESSION}) % {prs:UInt32} + 1) AS p
           FROM numbers({from:UInt64}, {count:UInt64}))`,
      query_params: {
        db,
        start: toClickHouseTime(start),
        gap,
        prs,
        from: at,
        count: Math.min(chunk, spans - at),
      },
    });
    onChunk?.();
  }
}

/** PR p opens when its first session starts (session p - 1) and merges 2 days later (80 %). */
export async function insertPrEvents(client, db, { spans, prs, start, end }) {
  const { gap } = layout(spans, start, end);
  await client.command({
    query: `INSERT INTO {db:Identifier}.pr_events
     (repo, pr, event_key, kind, at, author, actor, head_branch, base_branch, head_sha, created_at,
      review_state, check_name, check_conclusion, additions, deletions, changed_files, source, delivery_id)
   SELECT concat('acme/repo', toString(p % 10)), p, e.1, e.2,
          opened + toIntervalMinute(e.3), 'dev', '', concat('feat/', toString(p)), 'main',
          lower(hex(MD5(concat('sha', toString(p))))), opened,
          if(e.2 = 'review', if(p % 5 = 0, 'changes_requested', 'approved'), ''),
          if(e.2 = 'check', 'CI', ''), if(e.2 = 'check', if(p % 7 = 0, 'failure', 'success'), ''),
          toUInt32(p % 500), toUInt32(p % 50), 3, 'import-prs', ''
   FROM (SELECT toUInt32(number + 1) AS p,
                toDateTime64({start:DateTime64(3, 'UTC')}, 3, 'UTC') + toIntervalMillisecond(number * {gap:UInt64}) AS opened
         FROM numbers({prs:UInt32}))
   ARRAY JOIN arrayFilter(x -> x.2 != 'merged' OR p % 5 != 1,
     [('opened', 'opened', 0), ('pushed:x', 'pushed', 30), ('review:1', 'review', 600),
      ('check:1', 'check', 700), ('merged', 'merged', 2880)]) AS e`,
    query_params: { db, start: toClickHouseTime(start), gap, prs },
  });
}

/** The link rollup's rows, summed over [since, until) from the raw spans (FINAL): the baseline source. */
export const RAW_LINK_SOURCE = `(SELECT toStartOfHour(Timestamp) AS hour, repo,
    lower(replaceRegexpOne(replaceRegexpOne(repo, '(\\\\.git)?/*$', ''), '^(?:[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/]*@)?[^/]+/|[^@/:]+@[^:/]+:)', '')) AS repo_key,
    branch, commit, pr, session_id, developer, team, intent,
    toUInt64(span_type = 'llm') AS llm_calls, toUInt64(span_type = 'tool') AS tool_calls,
    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
    ifNull(cost_nanos, 0) AS cost_nanos, toInt64(unpriced) AS unpriced_calls
  FROM {db:Identifier}.spans FINAL WHERE span_type IN ('llm', 'tool'))`;

/** The query parameters of cost_per_pr.sql (and the reports sharing its filters) for `window`, unfiltered. */
export function costPerPrParams(db, window) {
  return {
    db,
    since: toClickHouseTime(window.since),
    until: toClickHouseTime(window.until),
    span_since: toClickHouseTime(window.since),
    repo: '',
    team: '',
    developer: '',
  };
}

/** p50 and p95 of `runs` calls after one warm-up; `runs` 0: one call, no warm-up. */
export async function time(runs, fn) {
  if (runs === 0) {
    // One cold call, timed (the raw baselines at 100M spans take minutes each).
    const s = performance.now();
    const rows = await fn();
    const ms = performance.now() - s;
    return { p50: ms, p95: ms, rows };
  }
  let rows = await fn();
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    rows = await fn();
    ms.push(performance.now() - s);
  }
  ms.sort((a, b) => a - b);
  const q = (p) => ms[Math.min(ms.length - 1, Math.ceil(p * ms.length) - 1)];
  return { p50: q(0.5), p95: q(0.95), rows };
}

/**
 * The redundancy findings the detect stage would store for the spans of insertSpans, generated inside
 * ClickHouse (a detect round over millions of sessions takes hours): in each session, every Read from
 * the 11th on (k >= 30) re-reads the file its 10th predecessor read (k - 30), one `re_read` finding
 * each, in one scan per session (session_scans marks the session scanned, so detection skips it).
 */
export async function insertFindings(
  client,
  db,
  { spans, prs, start, end, from = 0, chunk = CHUNK },
  onProgress,
) {
  const { gap } = layout(spans, start, end);
  const t0 = performance.now();
  for (let at = from; at < spans; at += chunk) {
    if (at > from)
      onProgress?.(
        `findings of spans ${at.toLocaleString('en-US')} / ${spans.toLocaleString('en-US')}, ${((performance.now() - t0) / 1000).toFixed(0)} s`,
      );
    await client.command({
      query: `INSERT INTO {db:Identifier}.waste_findings
       (session_id, span_id, trace_id, scan_id, Timestamp, kind, repeats_span_id, tool_name, repo, pr,
        developer, team, result_tokens, issue_tokens, wasted_tokens, direct_cost_nanos, carried_tokens,
        carried_cost_nanos, loop_length, fully_priced)
     SELECT concat('sess-', toString(s)), lower(hex(n)), lower(hex(toUInt128(s))), 1,
       toDateTime64({start:DateTime64(3, 'UTC')}, 9, 'UTC') + toIntervalMillisecond(s * {gap:UInt64} + k * 15000),
       're_read', lower(hex(n - 30)), 'Read', concat('https://github.com/acme/repo', toString(p % 10)),
       if(s % 4 = 0, p, 0), concat('dev', toString(s % 300)), concat('team', toString(s % 20)),
       800, 0, 800, 1200, 800, 240, 0, 1
     FROM (SELECT number AS n, intDiv(number, ${PER_SESSION}) AS s, number % ${PER_SESSION} AS k,
                  toUInt32(intDiv(number, ${PER_SESSION}) % {prs:UInt32} + 1) AS p
           FROM numbers({from:UInt64}, {count:UInt64}))
     WHERE k % 3 = 0 AND k >= 30`,
      query_params: {
        db,
        start: toClickHouseTime(start),
        gap,
        prs,
        from: at,
        count: Math.min(chunk, spans - at),
      },
    });
  }
  await client.command({
    query: `INSERT INTO {db:Identifier}.session_scans (session_id, scan_id, last_ingested_at, spans, findings)
     SELECT concat('sess-', toString(number)), 1, now64(3), ${PER_SESSION}, 57
     FROM numbers({from:UInt64}, {count:UInt64})`,
    query_params: {
      db,
      from: Math.floor(from / PER_SESSION),
      count: layout(spans, start, end).sessions - Math.floor(from / PER_SESSION),
    },
  });
}

/**
 * insertSpans for a bulk load with nothing else running (the reports bench above 10M spans): the
 * materialized views on `spans` are detached while the spans are inserted, then each view's target is
 * filled by INSERT … SELECT of the view's own query over the table, one slice of the stored spans at a
 * time (the same rows the views would have written per insert, summed in fewer, larger blocks: the
 * targets are Summing/Aggregating/Replacing tables or marks, so any split of the spans gives the same
 * rollups, as the views' own per-insert split does). Slices are ranges of TraceId, the table's sort
 * key (so each slice reads only its own granules), about `sliceRows` spans each, bounded by a sample of
 * the stored trace ids; each slice's query is restricted with `additional_table_filters` and may spill
 * its GROUP BY to disk above `groupByBytes`, so memory stays flat from 1M to 100M spans.
 * `refill`: the spans are all stored already and a previous fill may have stopped part-way: empty the
 * targets first, except those in `filled` (targets whose every view was filled: skipped);
 * `onTargetFilled(target)` is told when a target's last view is filled. `onProgress(text)` is told every chunk of spans and every slice filled (rows, elapsed); `onSpansDone()`
 * when every span is stored (the views' targets are filled after it).
 * @returns {Promise<{ views: number, spansS: number, rollupsS: number, slices: number, perViewMs: Record<string, number> }>}
 */
export async function insertSpansBulk(
  client,
  db,
  gen,
  {
    sliceRows = 10_000_000,
    groupByBytes = 2 * 2 ** 30,
    onProgress,
    onSpansDone,
    refill = false,
    filled = new Set(),
    onTargetFilled,
  } = {},
) {
  const rs = await client.query({
    query: `SELECT name, as_select, create_table_query FROM system.tables
            WHERE database = {db:String} AND engine = 'MaterializedView'`,
    query_params: { db },
    format: 'JSONEachRow',
  });
  const source = new RegExp(`FROM\\s+\`?${db}\`?\\.\`?spans\`?(\\s|$)`);
  const all = (await rs.json()).map((v) => ({
    ...v,
    target: /\sTO\s+(\S+)/.exec(v.create_table_query)?.[1],
  }));
  const views = all.filter((v) => source.test(v.as_select));
  if (views.some((v) => !v.target)) throw new Error('a view on spans has no TO target');
  if (refill) {
    // The fill stopped part-way (a resumed generation): the targets only views on spans write are
    // emptied and filled again; the others (link_dirty's marks, also written for PR facts and scans)
    // keep their rows, and the fill adds its marks again (a mark twice is re-linked once).
    const shared = new Set(all.filter((v) => !source.test(v.as_select)).map((v) => v.target));
    for (const target of new Set(views.map((v) => v.target)))
      if (!shared.has(target) && !filled.has(target))
        await client.command({ query: `TRUNCATE TABLE ${target}` });
  }
  for (const v of views)
    await client.command({ query: `DETACH VIEW {db:Identifier}.${v.name}`, query_params: { db } });
  const t0 = performance.now();
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`;
  let t = t0;
  let done = gen.from ?? 0;
  try {
    await insertSpans(client, db, {
      ...gen,
      onChunk: () => {
        done = Math.min(gen.spans, done + (gen.chunk ?? CHUNK));
        gen.onChunk?.();
        onProgress?.(
          `spans ${done.toLocaleString('en-US')} / ${gen.spans.toLocaleString('en-US')}, ${elapsed()}`,
        );
      },
    });
  } finally {
    for (const v of views)
      await client.command({
        query: `ATTACH TABLE {db:Identifier}.${v.name}`,
        query_params: { db },
      });
  }
  const spansS = (performance.now() - t) / 1000;
  onSpansDone?.();
  t = performance.now();
  const bounds = await traceIdBounds(client, db, sliceRows);
  const slices = bounds.length + 1;
  const perView = {};
  for (const [k, v] of views.entries()) {
    if (filled.has(v.target)) continue;
    const tv = performance.now();
    const cols = await (
      await client.query({ query: `DESCRIBE TABLE (${v.as_select})`, format: 'JSONEachRow' })
    ).json();
    for (let i = 0; i < slices; i++) {
      const range = [
        i > 0 ? `TraceId >= '${bounds[i - 1]}'` : '',
        i < bounds.length ? `TraceId < '${bounds[i]}'` : '',
      ].filter(Boolean);
      // A SETTINGS clause of the query (chDB's client sends clickhouse_settings as SET statements,
      // whose quoting a map of filters does not survive).
      const filter =
        range.length > 0
          ? `, additional_table_filters = {'${db}.spans': '${range.join(' AND ').replaceAll("'", "\\'")}'}`
          : '';
      await client.command({
        query: `INSERT INTO ${v.target} (${cols.map((c) => `\`${c.name}\``).join(', ')}) ${v.as_select}
          SETTINGS max_bytes_before_external_group_by = ${groupByBytes}${filter}`,
      });
      if (slices > 1) onProgress?.(`${v.name}: slice ${i + 1} / ${slices}, ${elapsed()}`);
    }
    perView[v.name] = Math.round(performance.now() - tv);
    onProgress?.(`${v.name} filled in ${(perView[v.name] / 1000).toFixed(1)} s, ${elapsed()}`);
    if (!views.slice(k + 1).some((w) => w.target === v.target)) onTargetFilled?.(v.target);
  }
  return {
    views: views.length,
    spansS,
    rollupsS: (performance.now() - t) / 1000,
    slices,
    perViewMs: perView,
  };
}

/**
 * Sorted TraceId values that cut the stored spans into slices of about `sliceRows` rows: quantiles of
 * a sample of the spans' trace ids (at most a few thousand values; no slices for a small table).
 * Only hex ids are used as bounds (they are quoted into a filter).
 */
export async function traceIdBounds(client, db, sliceRows) {
  const rs = await client.query({
    query: `SELECT count() AS n, arraySort(groupArraySample(4096, 1)(TraceId)) AS sample FROM {db:Identifier}.spans`,
    query_params: { db },
    format: 'JSONEachRow',
  });
  const [{ n, sample }] = await rs.json();
  const slices = Math.ceil(Number(n) / sliceRows);
  if (slices <= 1) return [];
  const bounds = [];
  for (let i = 1; i < slices; i++) {
    const b = sample[Math.floor((i * sample.length) / slices)];
    if (/^[0-9a-f]+$/.test(b) && b !== bounds[bounds.length - 1]) bounds.push(b);
  }
  return bounds;
}
