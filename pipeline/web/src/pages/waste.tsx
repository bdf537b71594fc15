import type { JSX } from 'preact';
import { getRows } from '../api.ts';
import { StackedBars, pivot } from '../chart.tsx';
import { int, repoName, usd } from '../format.ts';
import type { WasteRow, WasteSeriesPoint } from '../types.ts';
import { Loaded, Table, useLoad, type Column } from '../ui.tsx';
import { buckets, windowParams, type View } from '../url.ts';

const DIMENSIONS = ['kind', 'tool', 'mcp_server', 'repo', 'developer'] as const;

export function Waste({ view, go }: { view: View; go: (v: View) => void }): JSX.Element {
  const w = windowParams(view.q);
  const by = (DIMENSIONS as readonly string[]).includes(view.q.wasteBy ?? '')
    ? view.q.wasteBy!
    : 'kind';
  const key = JSON.stringify(w);
  const b = buckets(view.q);
  const series = useLoad(
    () => getRows<WasteSeriesPoint>('dashboard/waste-series', { ...w, step: b.step }),
    [key, b.step],
  );
  const table = useLoad(
    () => getRows<WasteRow>('reports/waste', { since: w.since, until: w.until, by }),
    [key, by],
  );
  const columns: Column<WasteRow>[] = [
    {
      key: 'key',
      label: by,
      sort: (r) => r.key,
      cell: (r) => (by === 'repo' ? repoName(r.key) : r.key || '(none)'),
    },
    {
      key: 'n',
      label: 'Occurrences',
      num: true,
      sort: (r) => r.occurrences,
      cell: (r) => int(r.occurrences),
    },
    {
      key: 'sessions',
      label: 'Sessions',
      num: true,
      sort: (r) => r.sessions,
      cell: (r) => int(r.sessions),
    },
    {
      key: 'tokens',
      label: 'Wasted tokens',
      num: true,
      sort: (r) => r.wasted_tokens,
      cell: (r) => int(r.wasted_tokens),
    },
    {
      key: 'direct',
      label: 'Direct',
      num: true,
      sort: (r) => Number(r.direct_cost_nanos),
      cell: (r) => usd(r.direct_cost_nanos),
    },
    {
      key: 'carried',
      label: 'Carried',
      num: true,
      sort: (r) => Number(r.carried_cost_nanos),
      cell: (r) => usd(r.carried_cost_nanos),
    },
    {
      key: 'total',
      label: 'Total',
      num: true,
      sort: (r) => Number(r.cost_nanos),
      cell: (r) => usd(r.cost_nanos),
    },
  ];
  return (
    <>
      <section class="panel" aria-labelledby="waste-time-title">
        <h2 id="waste-time-title">Waste over time (direct + carried, by kind)</h2>
        <Loaded load={series} what="waste over time">
          {(rows) => {
            if (rows.length === 0)
              return <p class="muted">No redundant calls found in this window.</p>;
            const p = pivot(
              rows,
              b.xs,
              (r) => r.bucket,
              (r) => r.key,
              (r) => r.direct_cost_usd + r.carried_cost_usd,
            );
            return (
              <StackedBars
                label="Waste dollars by kind over time"
                x={p.x}
                series={p.series}
                format={(v) => `$${v.toFixed(v < 1 ? 4 : 2)}`}
                height={220}
              />
            );
          }}
        </Loaded>
      </section>
      <section class="panel" aria-labelledby="waste-by-title">
        <div class="panel-head">
          <h2 id="waste-by-title">Redundant calls by {by}</h2>
          <label>
            Group by{' '}
            <select
              value={by}
              onChange={(e) => go({ ...view, q: { ...view.q, wasteBy: e.currentTarget.value } })}
            >
              {DIMENSIONS.map((d) => (
                <option value={d}>{d}</option>
              ))}
            </select>
          </label>
        </div>
        <p class="muted">
          The time range applies here; repository, team, developer and model filters apply to the
          chart only (as in `report waste`).
        </p>
        <Loaded load={table} what="waste">
          {(rows) =>
            rows.length === 0 ? (
              <p class="muted">No redundant calls found in this window.</p>
            ) : (
              <Table
                caption={`Waste by ${by}`}
                columns={columns}
                rows={rows}
                rowKey={(r) => r.key}
                initialSort={{ key: 'total', desc: true }}
                testId="waste-table"
              />
            )
          }
        </Loaded>
      </section>
    </>
  );
}
