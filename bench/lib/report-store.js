// The reports bench's saved stores (bench/reports.js): a kept store that later runs reuse or resume
// (HM_BENCH_REPORT_STORE, for 100M spans) and saved snapshots of a 10M store's states
// (HM_BENCH_REPORT_SNAPSHOT with HM_BENCH_REPORT_ONLY). Moved out of reports.js so that file stays one
// benchmark; the marker files and the copy/restore live here.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// HM_BENCH_REPORT_SNAPSHOT=DIR (up to 10M spans) keeps the store as it is right after the bulk load
// (DIR/first, before the first report) and after the findings' bulk re-link (DIR/rounds, before the
// detect rounds), and later runs start from a copy of the saved state instead of generating it again; with
// HM_BENCH_REPORT_ONLY=first (or rounds) a run times only that part and stops. For trying re-link
// changes at 10M without regenerating 10M spans per try (the saved state is copied, never changed).
export function snapshots(env = process.env) {
  const dir = env.HM_BENCH_REPORT_SNAPSHOT;
  const only = env.HM_BENCH_REPORT_ONLY ?? '';
  if (!['', 'first', 'rounds'].includes(only))
    throw new Error('HM_BENCH_REPORT_ONLY is first or rounds');
  const savedAt = (part) => (dir ? join(dir, part) : '');
  const savedMeta = (part) =>
    dir && existsSync(`${savedAt(part)}.json`)
      ? JSON.parse(readFileSync(`${savedAt(part)}.json`, 'utf8'))
      : null;
  const restore = only === 'rounds' ? savedMeta('rounds') : savedMeta('first');
  if (only === 'rounds' && !restore) throw new Error(`no saved rounds state in ${dir}`);
  return {
    dir,
    only,
    restore,
    /** Copies the saved state `restore` names into the (empty) data folder. */
    restoreInto(dataDir) {
      if (restore) execFileSync('cp', ['-a', `${savedAt(restore.part)}/.`, dataDir]);
    },
    /** A copy of the store with no merge or mutation running (parts are immutable, so the copy is
     * consistent), and what the later run needs to use it (`meta`). */
    async save(client, dataDir, part, meta) {
      await client.command({ query: 'SYSTEM STOP MERGES' });
      for (;;) {
        const rs = await client.query({
          query: `SELECT (SELECT count() FROM system.merges)
            + (SELECT count() FROM system.mutations WHERE NOT is_done) AS n`,
          format: 'JSONEachRow',
        });
        const [r] = await rs.json();
        if (Number(r.n) === 0) break;
        await new Promise((res) => setTimeout(res, 200));
      }
      mkdirSync(dir, { recursive: true });
      rmSync(savedAt(part), { recursive: true, force: true });
      execFileSync('cp', ['-a', dataDir, savedAt(part)]);
      await client.command({ query: 'SYSTEM START MERGES' });
      writeFileSync(`${savedAt(part)}.json`, JSON.stringify({ part, ...meta }));
    },
  };
}

const FILLED = 'hm-bench-reports.started.filled-';

// HM_BENCH_REPORT_STORE=<folder> keeps the generated store there (a 100M store takes long to build) and,
// when the folder already holds one of the same size, reuses it: no generation, only the timed calls.
// HM_BENCH_REPORT_GENERATE_ONLY=1 stops after generating (e.g. under `nice`, then time in a second run).
export function keptStore(spans, prs, env = process.env) {
  const dir = env.HM_BENCH_REPORT_STORE;
  if (dir && env.HM_BENCH_REPORT_SNAPSHOT)
    throw new Error('HM_BENCH_REPORT_STORE and HM_BENCH_REPORT_SNAPSHOT do not go together');
  const meta = dir ? join(dir, 'hm-bench-reports.json') : '';
  const kept = dir && existsSync(meta) ? JSON.parse(readFileSync(meta, 'utf8')) : null;
  if (kept && (kept.spans !== spans || kept.prs !== prs))
    throw new Error(
      `${dir} holds ${kept.spans} spans / ${kept.prs} PRs, not ${spans} / ${prs}: set HM_BENCH_REPORT_SPANS/HM_BENCH_REPORT_PRS to match or use another HM_BENCH_REPORT_STORE`,
    );
  if (dir) mkdirSync(dir, { recursive: true });
  const started = dir ? join(dir, 'hm-bench-reports.started') : '';
  const marker = (name) => (dir ? `${started}.${name}` : '');
  return {
    dir,
    kept,
    generateOnly: env.HM_BENCH_REPORT_GENERATE_ONLY === '1',
    /** Whether a step of an earlier, stopped generation finished ('spans-done', 'findings-done'). */
    done: (step) => Boolean(dir) && existsSync(marker(step)),
    /** Records that a step finished (nothing without a kept store). */
    markDone: (step) => dir && writeFileSync(marker(step), ''),
    /** The rollups an earlier generation filled completely. */
    filled: () =>
      new Set(
        dir
          ? readdirSync(dir)
              .filter((n) => n.startsWith(FILLED))
              .map((n) => n.slice(FILLED.length))
          : [],
      ),
    markFilled: (table) => dir && writeFileSync(join(dir, `${FILLED}${table}`), ''),
    /** Writes what a later run needs to reuse the store. */
    keep: (info) => dir && writeFileSync(meta, JSON.stringify(info)),
    /**
     * A kept store whose generation stopped while its spans were inserted (no metadata yet) resumes:
     * the spans of the last, partly inserted chunk are deleted and the insert goes on from there (the
     * spans are a pure function of their number; the 90 days end where the first span says). Stopped
     * later (rollup fill, findings), the rollups only the spans' views write and the findings are made
     * again.
     */
    async resume(client, db, progress, env2 = env) {
      const state = { from: 0, end: null, refill: false };
      if (!dir || kept) return state;
      const rs = await client.query({
        query: `SELECT count() AS n, toUnixTimestamp64Milli(min(Timestamp)) AS first FROM {db:Identifier}.spans`,
        query_params: { db },
        format: 'JSONEachRow',
      });
      const [{ n, first }] = await rs.json();
      if (Number(n) > 0) {
        if (!existsSync(started))
          throw new Error(
            `${dir} holds spans this bench did not start generating: delete the folder or use another HM_BENCH_REPORT_STORE`,
          );
        const chunk = Number(env2.HM_BENCH_REPORT_CHUNK ?? 1_000_000);
        // Every span stored: the rollups and findings are made again (refill).
        state.refill = existsSync(marker('spans-done'));
        state.from = state.refill ? spans : Math.floor(Number(n) / chunk) * chunk;
        state.end = new Date(Number(first) + 90 * 86_400_000);
        if (state.refill && !existsSync(marker('findings-done'))) {
          for (const t of ['waste_findings', 'session_scans'])
            await client.command({
              query: `TRUNCATE TABLE {db:Identifier}.${t}`,
              query_params: { db },
            });
        } else if (state.from !== Number(n))
          await client.command({
            query: `DELETE FROM {db:Identifier}.spans WHERE reinterpretAsUInt64(reverse(unhex(SpanId))) >= {from:UInt64}`,
            query_params: { db, from: state.from },
          });
        progress(
          state.refill
            ? `resuming the generation in ${dir}: every span is stored, the rollups and findings are made again`
            : `resuming the generation in ${dir} at span ${state.from.toLocaleString('en-US')}`,
        );
      }
      writeFileSync(started, '');
      return state;
    },
  };
}
