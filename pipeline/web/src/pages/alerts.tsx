import type { JSX } from 'preact';
import { getRows } from '../api.ts';
import { int, when } from '../format.ts';
import type { AlertReportRow } from '../types.ts';
import { Loaded, Table, useLoad, type Column } from '../ui.tsx';
import { windowParams, type View } from '../url.ts';

export function Alerts({ view }: { view: View }): JSX.Element {
  const w = windowParams(view.q);
  const rows = useLoad(
    () => getRows<AlertReportRow>('reports/alerts', { since: w.since, until: w.until }),
    [JSON.stringify(w)],
  );
  const columns: Column<AlertReportRow>[] = [
    { key: 'at', label: 'At', sort: (r) => r.at, cell: (r) => when(r.at) },
    {
      key: 'state',
      label: 'State',
      sort: (r) => r.state,
      cell: (r) => <span class={`pill state-${r.state}`}>{r.state}</span>,
    },
    {
      key: 'rule',
      label: 'Rule',
      sort: (r) => r.rule_id,
      cell: (r) => `${r.rule_id} (${r.rule_type})`,
    },
    {
      key: 'entity',
      label: 'Entity',
      sort: (r) => r.entity,
      cell: (r) => `${r.entity_kind}: ${r.entity}`,
    },
    { key: 'figure', label: 'Figure', num: true, cell: (r) => r.figure_text },
    { key: 'threshold', label: 'Threshold', num: true, cell: (r) => r.threshold_text },
    { key: 'baseline', label: 'Baseline', num: true, cell: (r) => r.baseline },
    {
      key: 'delivery',
      label: 'Delivery',
      cell: (r) => (r.delivery ? `${r.delivery} (${int(r.attempts)} attempts)` : 'no webhook'),
    },
    { key: 'message', label: 'Message', cell: (r) => r.message },
  ];
  return (
    <section class="panel" aria-labelledby="alerts-page-title">
      <h2 id="alerts-page-title">Alert notices</h2>
      <Loaded load={rows} what="alerts">
        {(data) =>
          data.length === 0 ? (
            <p class="muted">
              No alert notices in this window. Rules: see the README's alerts section.
            </p>
          ) : (
            <Table
              caption="Notices, newest first"
              columns={columns}
              rows={data}
              rowKey={(r) => `${r.alert_id}${r.at}${r.state}`}
              testId="alerts-table"
            />
          )
        }
      </Loaded>
    </section>
  );
}
