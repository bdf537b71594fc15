import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { getRows } from '../api.ts';
import { compact, costText, int, repoName, usd, when } from '../format.ts';
import type {
  CostPerPrRow,
  FirstPassRow,
  MergedPrCostRow,
  PrOutcomeRow,
  PrSessionRow,
} from '../types.ts';
import { Bars, Loaded, Table, useLoad, type Column } from '../ui.tsx';
import { hrefOf, windowParams, type View } from '../url.ts';

const prLabel = (r: CostPerPrRow): string =>
  r.pr === null ? '(unattributed)' : `#${String(r.pr)}`;

export function PullRequests({ view }: { view: View }): JSX.Element {
  const w = windowParams(view.q);
  const key = JSON.stringify(w);
  const prs = useLoad(() => getRows<CostPerPrRow>('reports/cost-per-pr', w), [key]);
  const merged = useLoad(() => getRows<MergedPrCostRow>('reports/cost-per-merged-pr', w), [key]);
  const ttm = useLoad(() => getRows<PrOutcomeRow>('reports/time-to-merge', w), [key]);
  const fp = useLoad(() => getRows<FirstPassRow>('reports/first-pass', w), [key]);
  const [text, setText] = useState('');
  const columns: Column<CostPerPrRow>[] = [
    { key: 'repo', label: 'Repository', sort: (r) => r.repo, cell: (r) => repoName(r.repo) },
    {
      key: 'pr',
      label: 'PR',
      sort: (r) => r.pr ?? 0,
      cell: (r) => (
        <a href={hrefOf({ page: 'pr', args: [r.repo, String(r.pr ?? 'none')], q: view.q })}>
          {prLabel(r)}
        </a>
      ),
    },
    { key: 'state', label: 'State', sort: (r) => r.state ?? '', cell: (r) => r.state ?? '—' },
    { key: 'rules', label: 'Linked by', sort: (r) => r.rules, cell: (r) => r.rules },
    {
      key: 'sessions',
      label: 'Sessions',
      num: true,
      sort: (r) => r.sessions,
      cell: (r) => int(r.sessions),
    },
    {
      key: 'llm',
      label: 'LLM calls',
      num: true,
      sort: (r) => r.llm_calls,
      cell: (r) => int(r.llm_calls),
    },
    {
      key: 'tokens',
      label: 'Tokens in/out',
      num: true,
      sort: (r) => r.input_tokens + r.output_tokens,
      cell: (r) => `${compact(r.input_tokens)} / ${compact(r.output_tokens)}`,
    },
    {
      key: 'cost',
      label: 'Cost',
      num: true,
      sort: (r) => Number(r.cost_nanos),
      cell: (r) => (
        <span data-nanos={r.cost_nanos ?? ''}>{costText(r.cost_nanos, r.unpriced_calls)}</span>
      ),
    },
    {
      key: 'waste',
      label: 'Waste',
      num: true,
      sort: (r) => Number(r.wasted_cost_nanos),
      cell: (r) => usd(r.wasted_cost_nanos),
    },
    {
      key: 'merged',
      label: 'Merged',
      sort: (r) => r.merged_at ?? '',
      cell: (r) => (r.merged_at ? when(r.merged_at) : ''),
    },
  ];
  return (
    <>
      <section class="panel" aria-labelledby="prs-title">
        <div class="panel-head">
          <h2 id="prs-title">Cost per pull request</h2>
          <label>
            Filter rows{' '}
            <input
              type="search"
              value={text}
              onInput={(e) => setText(e.currentTarget.value)}
              placeholder="repo, PR, state"
            />
          </label>
        </div>
        <Loaded load={prs} what="pull requests">
          {(rows) => {
            const t = text.trim().toLowerCase();
            const shown = t
              ? rows.filter((r) =>
                  `${r.repo} ${prLabel(r)} ${r.state ?? ''} ${r.rules}`.toLowerCase().includes(t),
                )
              : rows;
            return rows.length === 0 ? (
              <p class="muted">No spend in this window.</p>
            ) : (
              <Table
                caption={`${String(shown.length)} of ${String(rows.length)} rows; spend with no PR is the unattributed row`}
                columns={columns}
                rows={shown}
                rowKey={(r) => `${r.repo}#${String(r.pr)}`}
                initialSort={{ key: 'cost', desc: true }}
                testId="pr-table"
              />
            );
          }}
        </Loaded>
      </section>
      <div class="grid3">
        <section class="panel" aria-labelledby="merged-title">
          <h2 id="merged-title">Cost per merged PR</h2>
          <Loaded load={merged} what="merged PRs">
            {(rows) =>
              rows.length === 0 ? (
                <p class="muted">
                  No merged PRs in this window (GitHub facts come from the webhook or import).
                </p>
              ) : (
                <Bars
                  label="Cost per merged PR by repository"
                  items={rows.map((r) => ({
                    key: r.repo,
                    label: repoName(r.repo),
                    value: r.cost_per_merged_pr_usd ?? 0,
                    text:
                      r.cost_per_merged_pr_nanos === null ? '—' : usd(r.cost_per_merged_pr_nanos),
                  }))}
                />
              )
            }
          </Loaded>
        </section>
        <section class="panel" aria-labelledby="ttm-title">
          <h2 id="ttm-title">Time to merge (median hours)</h2>
          <Loaded load={ttm} what="time to merge">
            {(rows) =>
              rows.length === 0 ? (
                <p class="muted">No merged PRs in this window.</p>
              ) : (
                <Bars
                  label="Median hours to merge by cohort"
                  items={rows.map((r) => ({
                    key: `${r.cohort}${r.size}`,
                    label: r.cohort,
                    value: r.median_hours_to_merge ?? 0,
                    text:
                      r.median_hours_to_merge === null
                        ? '—'
                        : `${r.median_hours_to_merge.toFixed(1)} h (${String(r.prs)} PRs)`,
                  }))}
                />
              )
            }
          </Loaded>
        </section>
        <section class="panel" aria-labelledby="fp-title">
          <h2 id="fp-title">First-pass success</h2>
          <Loaded load={fp} what="first-pass success">
            {(rows) =>
              rows.length === 0 ? (
                <p class="muted">No sessions in this window.</p>
              ) : (
                <Bars
                  label="First-pass success by repository"
                  items={rows.map((r) => ({
                    key: r.repo,
                    label: repoName(r.repo),
                    value: r.first_pass_pct ?? 0,
                    text:
                      r.first_pass_pct === null
                        ? `${String(r.pending_sessions)} pending`
                        : `${String(r.first_pass_pct)}%`,
                  }))}
                />
              )
            }
          </Loaded>
        </section>
      </div>
    </>
  );
}

/** PR → its sessions (the same linkage rules as cost-per-pr). */
export function PullRequest({ view }: { view: View }): JSX.Element {
  const [repo = '', pr = 'none'] = view.args;
  const w = windowParams(view.q);
  const key = JSON.stringify([w, repo, pr]);
  const sessions = useLoad(
    () => getRows<PrSessionRow>('dashboard/pr-sessions', { ...w, pr_repo: repo, pr }),
    [key],
  );
  const title = `${repoName(repo)} ${pr === 'none' ? '(unattributed)' : `#${pr}`}`;
  const columns: Column<PrSessionRow>[] = [
    {
      key: 'session',
      label: 'Session',
      sort: (r) => r.session_id,
      cell: (r) => (
        <a href={hrefOf({ page: 'session', args: [r.session_id], q: view.q })}>
          {r.session_id || '(no session)'}
        </a>
      ),
    },
    { key: 'dev', label: 'Developer', sort: (r) => r.developer, cell: (r) => r.developer },
    { key: 'intent', label: 'Intent', sort: (r) => r.intent, cell: (r) => r.intent },
    { key: 'branch', label: 'Branch', sort: (r) => r.branch, cell: (r) => r.branch },
    {
      key: 'llm',
      label: 'LLM calls',
      num: true,
      sort: (r) => r.llm_calls,
      cell: (r) => int(r.llm_calls),
    },
    {
      key: 'tools',
      label: 'Tool calls',
      num: true,
      sort: (r) => r.tool_calls,
      cell: (r) => int(r.tool_calls),
    },
    {
      key: 'cost',
      label: 'Cost',
      num: true,
      sort: (r) => Number(r.cost_nanos),
      cell: (r) => costText(r.cost_nanos, r.unpriced_calls),
    },
    { key: 'rules', label: 'Linked by', sort: (r) => r.rules, cell: (r) => r.rules },
    {
      key: 'first',
      label: 'First seen (hour)',
      sort: (r) => r.first_seen,
      cell: (r) => when(r.first_seen),
    },
  ];
  return (
    <section class="panel" aria-labelledby="pr-title">
      <p class="crumbs">
        <a href={hrefOf({ page: 'prs', args: [], q: view.q })}>Pull requests</a> › {title}
      </p>
      <h2 id="pr-title">Sessions of {title}</h2>
      <Loaded load={sessions} what="sessions">
        {(rows) =>
          rows.length === 0 ? (
            <p class="muted">No session spend linked to this PR in the window.</p>
          ) : (
            <Table
              caption="Sessions charged to this PR"
              columns={columns}
              rows={rows}
              rowKey={(r) => r.session_id}
              initialSort={{ key: 'cost', desc: true }}
              testId="session-table"
            />
          )
        }
      </Loaded>
    </section>
  );
}
