import type { JSX } from 'preact';
import { getRows } from '../api.ts';
import { StackedBars, pivot } from '../chart.tsx';
import { compact, costText, int, repoName, sumNanos, usd } from '../format.ts';
import type {
  AlertReportRow,
  CostPerPrRow,
  DashboardSummary,
  SeriesPoint,
  WasteSeriesPoint,
} from '../types.ts';
import { Bars, Card, Loaded, useLoad } from '../ui.tsx';
import { buckets, hrefOf, windowParams, type View } from '../url.ts';

const SERIES_BY = ['model', 'team', 'developer', 'repo'] as const;

/** What to do when the window holds no spans: point an agent at this server. */
export function EmptyState(): JSX.Element {
  const origin = window.location.origin;
  return (
    <section class="empty" aria-labelledby="empty-title">
      <h2 id="empty-title">No agent spend in this window</h2>
      <p>Widen the time range, clear the filters, or send some telemetry to this server:</p>
      <ol>
        <li>
          Try it with the demo harness:{' '}
          <code>npx harness-meter demo --endpoint {origin}/v1/traces</code>
        </li>
        <li>
          An SDK harness: <code>startTelemetry({`{ endpoint: '${origin}/v1/traces' }`})</code> from{' '}
          <code>@harness-meter/instrumentation</code>
        </li>
        <li>
          Claude Code: <code>CLAUDE_CODE_ENABLE_TELEMETRY=1 OTEL_LOGS_EXPORTER=otlp</code>{' '}
          <code>
            OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_EXPORTER_OTLP_ENDPOINT={origin}
          </code>
        </li>
      </ol>
    </section>
  );
}

export function Overview({ view, go }: { view: View; go: (v: View) => void }): JSX.Element {
  const w = windowParams(view.q);
  const by = (SERIES_BY as readonly string[]).includes(view.q.by ?? '') ? view.q.by! : 'model';
  const key = JSON.stringify(w);
  const summary = useLoad(() => getRows<DashboardSummary>('dashboard/summary', w), [key]);
  const b = buckets(view.q);
  const series = useLoad(
    () => getRows<SeriesPoint>('dashboard/series', { ...w, by, step: b.step }),
    [key, by, b.step],
  );
  const waste = useLoad(() => getRows<WasteSeriesPoint>('dashboard/waste-series', w), [key]);
  const prs = useLoad(() => getRows<CostPerPrRow>('reports/cost-per-pr', w), [key]);
  const alerts = useLoad(
    () => getRows<AlertReportRow>('reports/alerts', { since: w.since, until: w.until }),
    [key],
  );
  return (
    <Loaded load={summary} what="totals">
      {([s]) =>
        !s || s.llm_calls + s.tool_calls === 0 ? (
          <EmptyState />
        ) : (
          <>
            <section class="cards" aria-label="Totals">
              <Card
                title="Spend"
                value={usd(s.cost_nanos)}
                testId="total-cost"
                note={`${compact(s.input_tokens + s.output_tokens)} tokens`}
              />
              <Card
                title="LLM calls"
                value={int(s.llm_calls)}
                testId="llm-calls"
                note={`${int(s.tool_calls)} tool calls`}
              />
              <Card
                title="Unpriced calls"
                value={s.unpriced_calls > 0 ? `${int(s.unpriced_calls)} unpriced` : 'none'}
                testId="unpriced"
                note={
                  s.unpriced_calls > 0 ? 'cost unknown, not counted as $0' : 'every call priced'
                }
              />
              <Loaded load={waste} what="waste">
                {(rows) => {
                  const total = sumNanos(
                    rows.flatMap((r) => [r.direct_cost_nanos, r.carried_cost_nanos]),
                  );
                  return (
                    <Card
                      title="Waste"
                      value={usd(total)}
                      testId="waste-total"
                      note={`${share(total, s.cost_nanos)} of spend · direct ${usd(sumNanos(rows.map((r) => r.direct_cost_nanos)))} · carried ${usd(sumNanos(rows.map((r) => r.carried_cost_nanos)))}`}
                    />
                  );
                }}
              </Loaded>
            </section>
            <section class="panel" aria-labelledby="spend-title">
              <div class="panel-head">
                <h2 id="spend-title">Spend over time</h2>
                <label>
                  Stack by{' '}
                  <select
                    name="by"
                    value={by}
                    onChange={(e) => go({ ...view, q: { ...view.q, by: e.currentTarget.value } })}
                  >
                    {SERIES_BY.map((b) => (
                      <option value={b}>{b}</option>
                    ))}
                  </select>
                </label>
              </div>
              <Loaded load={series} what="the time series">
                {(rows) => {
                  const p = pivot(
                    rows,
                    b.xs,
                    (r) => r.bucket,
                    (r) => (by === 'repo' ? repoName(r.key) : r.key),
                    (r) => r.cost_usd,
                  );
                  return (
                    <StackedBars
                      label={`Spend by ${by} over time`}
                      x={p.x}
                      series={p.series}
                      format={(v) => `$${v.toFixed(v < 1 ? 3 : 2)}`}
                    />
                  );
                }}
              </Loaded>
            </section>
            <div class="grid2">
              <section class="panel" aria-labelledby="tokens-title">
                <h2 id="tokens-title">Tokens by kind</h2>
                <Bars
                  label="Tokens by kind"
                  items={[
                    {
                      key: 'input',
                      label: 'Input (fresh)',
                      value: s.fresh_input_tokens,
                      text: compact(s.fresh_input_tokens),
                    },
                    {
                      key: 'cache_read',
                      label: 'Cache read',
                      value: s.cache_read_tokens,
                      text: compact(s.cache_read_tokens),
                    },
                    {
                      key: 'cache_write',
                      label: 'Cache write',
                      value: s.cache_write_tokens,
                      text: compact(s.cache_write_tokens),
                    },
                    {
                      key: 'output',
                      label: 'Output',
                      value: s.output_tokens,
                      text: compact(s.output_tokens),
                    },
                  ]}
                />
              </section>
              <section class="panel" aria-labelledby="top-prs-title">
                <h2 id="top-prs-title">Top pull requests</h2>
                <Loaded load={prs} what="pull requests">
                  {(rows) => (
                    <ol class="top-list">
                      {rows.slice(0, 6).map((r) => (
                        <li key={`${r.repo}#${String(r.pr)}`}>
                          <a
                            href={hrefOf({
                              page: 'pr',
                              args: [r.repo, String(r.pr ?? 'none')],
                              q: view.q,
                            })}
                          >
                            {repoName(r.repo)}{' '}
                            {r.pr === null ? '(unattributed)' : `#${String(r.pr)}`}
                          </a>
                          <span class="num">{costText(r.cost_nanos, r.unpriced_calls)}</span>
                        </li>
                      ))}
                    </ol>
                  )}
                </Loaded>
              </section>
            </div>
            <section class="panel" aria-labelledby="alerts-title">
              <h2 id="alerts-title">Open alerts</h2>
              <Loaded load={alerts} what="alerts">
                {(rows) => {
                  const open = latestOpen(rows);
                  return open.length === 0 ? (
                    <p class="muted">No open alerts in this window.</p>
                  ) : (
                    <ul class="alert-list">
                      {open.map((a) => (
                        <li key={a.alert_id} class={`state-${a.state}`}>
                          <strong>{a.state}</strong> {a.message}
                        </li>
                      ))}
                    </ul>
                  );
                }}
              </Loaded>
            </section>
          </>
        )
      }
    </Loaded>
  );
}

/** part / whole as a percentage with one decimal, exactly (integer nano-USD). */
function share(part: string, whole: string): string {
  const w = BigInt(whole);
  if (w <= 0n) return '—';
  const tenths = (BigInt(part) * 1000n + w / 2n) / w;
  return `${(tenths / 10n).toString()}.${(tenths % 10n).toString()}%`;
}

/** Alerts whose latest notice (rows are newest first) is not resolved. */
function latestOpen(rows: AlertReportRow[]): AlertReportRow[] {
  const seen = new Set<string>();
  const open: AlertReportRow[] = [];
  for (const r of rows) {
    const k = `${r.rule_id}|${r.entity_kind}|${r.entity}`;
    if (seen.has(k)) continue;
    seen.add(k);
    if (r.state !== 'resolved') open.push(r);
  }
  return open;
}
