import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { getRows } from '../api.ts';
import { compact, int, ms, repoName, sumNanos, usd, when } from '../format.ts';
import type { SessionSpanRow } from '../types.ts';
import { Loaded, useLoad } from '../ui.tsx';
import { hrefOf, type View } from '../url.ts';

function callLabel(s: SessionSpanRow): string {
  if (s.span_type === 'llm') return s.model || s.name;
  if (s.span_type === 'tool') return s.tool_name || s.name;
  return s.name;
}

function callSummary(s: SessionSpanRow): string {
  if (s.span_type === 'llm')
    return `in ${compact(s.input_tokens)} · out ${compact(s.output_tokens)} · ${usd(s.cost_nanos)}`;
  if (s.span_type === 'tool')
    return `result ${compact(s.result_tokens)} tok${s.is_error ? ' · failed' : ''}`;
  return '';
}

/** The part of a call's cost that is not a token price: request and web-search fees. */
function feesNanos(s: SessionSpanRow): string | null {
  if (s.cost_nanos === null) return null;
  const parts = BigInt(
    sumNanos([
      s.input_cost_nanos,
      s.output_cost_nanos,
      s.cache_read_cost_nanos,
      s.cache_write_cost_nanos,
    ]),
  );
  return (BigInt(s.cost_nanos) - parts).toString();
}

function Details({
  s,
  byId,
  jump,
}: {
  s: SessionSpanRow;
  byId: Map<string, number>;
  jump: (id: string) => void;
}): JSX.Element {
  const fees = feesNanos(s);
  return (
    <aside class="details" aria-labelledby="details-title" data-testid="call-details">
      <h3 id="details-title">
        {s.span_type === 'llm' ? 'LLM call' : s.span_type === 'tool' ? 'Tool call' : 'Span'}:{' '}
        {callLabel(s)}
      </h3>
      <dl>
        <dt>Started</dt>
        <dd>
          {when(s.start)} ({ms(s.duration_ms)})
        </dd>
        {s.span_type === 'llm' ? (
          <>
            <dt>Input tokens</dt>
            <dd>
              {int(s.input_tokens)} (cache read {int(s.cache_read_tokens)}, cache write{' '}
              {int(s.cache_write_tokens)}, fresh{' '}
              {int(Math.max(0, s.input_tokens - s.cache_read_tokens - s.cache_write_tokens))})
            </dd>
            <dt>Output tokens</dt>
            <dd>
              {int(s.output_tokens)}
              {s.reasoning_tokens > 0 ? ` (reasoning ${int(s.reasoning_tokens)})` : ''}
            </dd>
            <dt>Cost</dt>
            <dd data-testid="call-cost">{usd(s.cost_nanos)}</dd>
            {s.cost_nanos !== null ? (
              <>
                <dt>Breakdown</dt>
                <dd>
                  input {usd(s.input_cost_nanos)} · cache read {usd(s.cache_read_cost_nanos)} ·
                  cache write {usd(s.cache_write_cost_nanos)} · output {usd(s.output_cost_nanos)}
                  {fees !== null && fees !== '0' ? ` · fees ${usd(fees)}` : ''}
                </dd>
              </>
            ) : null}
            <dt>Price row</dt>
            <dd>
              <code>{s.price_id || (s.unpriced ? 'no price: unpriced' : '—')}</code>
            </dd>
          </>
        ) : null}
        {s.span_type === 'tool' ? (
          <>
            <dt>Result</dt>
            <dd>
              {int(s.result_tokens)} tokens{s.is_error ? ', failed' : ''}
            </dd>
          </>
        ) : null}
        {s.waste ? (
          <>
            <dt>Waste</dt>
            <dd>
              <strong>{s.waste.kind}</strong>: {int(s.waste.wasted_tokens)} tokens, direct{' '}
              {usd(s.waste.direct_cost_nanos)}, carried {usd(s.waste.carried_cost_nanos)}
              {s.waste.loop_length > 1 ? `, loop of ${String(s.waste.loop_length)}` : ''}
            </dd>
            {s.waste.repeats_span_id ? (
              <>
                <dt>Repeats</dt>
                <dd>
                  <button
                    type="button"
                    class="link"
                    onClick={() => jump(s.waste?.repeats_span_id ?? '')}
                  >
                    call #{String((byId.get(s.waste.repeats_span_id) ?? -1) + 1)}
                  </button>
                </dd>
              </>
            ) : null}
          </>
        ) : null}
      </dl>
    </aside>
  );
}

export function Session({ view }: { view: View }): JSX.Element {
  const id = view.args[0] ?? '';
  const spans = useLoad(() => getRows<SessionSpanRow>('dashboard/session', { session: id }), [id]);
  const [selected, setSelected] = useState<string | null>(null);
  const jump = (spanId: string): void => {
    setSelected(spanId);
    document.getElementById(`call-${spanId}`)?.focus();
  };
  return (
    <Loaded load={spans} what="the session">
      {(rows) => {
        if (rows.length === 0) return <p class="muted">No spans stored for session {id}.</p>;
        const t0 = Math.min(...rows.map((r) => r.start_ms));
        const t1 = Math.max(...rows.map((r) => r.start_ms + r.duration_ms), t0 + 1);
        const byId = new Map(rows.map((r, i) => [r.span_id, i]));
        const first = rows.find((r) => r.repo) ?? rows[0]!;
        const llm = rows.filter((r) => r.span_type === 'llm');
        const wasted = rows.filter((r) => r.waste);
        const sel = rows.find((r) => r.span_id === selected) ?? wasted[0] ?? llm[0] ?? rows[0]!;
        return (
          <>
            <p class="crumbs">
              <a href={hrefOf({ page: 'prs', args: [], q: view.q })}>Pull requests</a> ›{' '}
              <a
                href={hrefOf({
                  page: 'pr',
                  args: [first.repo, String(first.pr ?? 'none')],
                  q: view.q,
                })}
              >
                {repoName(first.repo)}{' '}
                {first.pr === null ? '(unattributed)' : `#${String(first.pr)}`}
              </a>{' '}
              › session
            </p>
            <h2>Session {id}</h2>
            <p class="muted">
              {first.developer || 'unknown developer'}
              {first.team ? ` (${first.team})` : ''} · {first.branch || 'no branch'} ·{' '}
              {when(rows[0]!.start)} · {int(llm.length)} LLM calls ·{' '}
              {usd(sumNanos(llm.map((r) => r.cost_nanos)))}
              {llm.some((r) => r.unpriced)
                ? ` + ${String(llm.filter((r) => r.unpriced).length)} unpriced`
                : ''}{' '}
              · waste direct {usd(sumNanos(wasted.map((r) => r.waste?.direct_cost_nanos)))}, carried{' '}
              {usd(sumNanos(wasted.map((r) => r.waste?.carried_cost_nanos)))}
            </p>
            <ul class="wf-legend" aria-label="Legend">
              <li>
                <span class="k-llm" />
                LLM call
              </li>
              <li>
                <span class="k-tool" />
                tool call
              </li>
              <li>
                <span class="k-waste" />
                redundant call (direct + carried dollars)
              </li>
              <li>time axis: {ms(t1 - t0)} from the first span</li>
            </ul>
            <div class="waterfall-wrap">
              <ol
                class="waterfall"
                aria-label="Calls of the session on a time axis"
                data-testid="waterfall"
              >
                {rows.map((r, i) => {
                  const left = ((r.start_ms - t0) / (t1 - t0)) * 100;
                  const width = Math.max(0.6, (r.duration_ms / (t1 - t0)) * 100);
                  return (
                    <li
                      key={r.span_id}
                      class={`wf-row type-${r.span_type}${r.waste ? ' wasted' : ''}${r.span_id === sel.span_id ? ' selected' : ''}`}
                    >
                      <button
                        type="button"
                        id={`call-${r.span_id}`}
                        aria-pressed={r.span_id === sel.span_id}
                        onClick={() => setSelected(r.span_id)}
                      >
                        <span class="wf-n">{String(i + 1)}</span>
                        <span class="wf-label">{callLabel(r)}</span>
                        <span class="wf-track" aria-hidden="true">
                          <span
                            class="wf-bar"
                            style={{
                              left: `${Math.min(left, 99.4).toFixed(2)}%`,
                              width: `${Math.min(width, 100 - Math.min(left, 99.4)).toFixed(2)}%`,
                            }}
                          />
                        </span>
                        <span class="wf-info">{callSummary(r)}</span>
                        {r.waste ? (
                          <span class="wf-waste" data-testid="waste-flag">
                            {r.waste.kind} of #
                            {String((byId.get(r.waste.repeats_span_id) ?? -1) + 1)} · direct{' '}
                            {usd(r.waste.direct_cost_nanos)} · carried{' '}
                            {usd(r.waste.carried_cost_nanos)}
                          </span>
                        ) : null}
                      </button>
                    </li>
                  );
                })}
              </ol>
              <Details s={sel} byId={byId} jump={jump} />
            </div>
          </>
        );
      }}
    </Loaded>
  );
}
