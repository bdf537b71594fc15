import 'uplot/dist/uPlot.min.css';
import './style.css';
import { render, type JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { apiKey, getRows } from './api.ts';
import { repoName } from './format.ts';
import { Alerts } from './pages/alerts.tsx';
import { Overview } from './pages/overview.tsx';
import { PullRequest, PullRequests } from './pages/prs.tsx';
import { Session } from './pages/session.tsx';
import { Waste } from './pages/waste.tsx';
import type { DashboardFilterValues } from './types.ts';
import { KeyForm, useLoad } from './ui.tsx';
import { DEFAULT_SINCE, FILTERS, hrefOf, parseHash, type Page, type View } from './url.ts';

const PRESETS: { since: string; label: string }[] = [
  { since: '24h', label: '24 h' },
  { since: '7d', label: '7 days' },
  { since: '30d', label: '30 days' },
  { since: '90d', label: '90 days' },
];

const NAV: { page: Page; label: string }[] = [
  { page: 'overview', label: 'Overview' },
  { page: 'prs', label: 'Pull requests' },
  { page: 'waste', label: 'Waste' },
  { page: 'alerts', label: 'Alerts' },
];

const TITLES: Record<Page, string> = {
  overview: 'Overview',
  prs: 'Pull requests',
  pr: 'Pull request',
  session: 'Session timeline',
  waste: 'Waste',
  alerts: 'Alerts',
};

/** datetime-local value (local time) ↔ ISO UTC for the API. */
const toLocalInput = (iso: string | undefined): string => {
  if (!iso || !/^\d{4}-/.test(iso)) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};
const fromLocalInput = (v: string): string => (v ? new Date(v).toISOString() : '');

function Controls({ view, go }: { view: View; go: (v: View) => void }): JSX.Element {
  const since = view.q.since ?? DEFAULT_SINCE;
  const set = (patch: Record<string, string>): void => {
    const q = { ...view.q, ...patch };
    for (const k of Object.keys(patch)) if (!patch[k]) delete q[k];
    go({ ...view, q });
  };
  const range = { since, ...(view.q.until ? { until: view.q.until } : {}) };
  const options = useLoad(
    () => getRows<DashboardFilterValues>('dashboard/filters', range).then(([v]) => v),
    [JSON.stringify(range)],
  );
  const custom = !PRESETS.some((p) => p.since === since) || Boolean(view.q.until);
  return (
    <form class="controls" aria-label="Time range and filters" onSubmit={(e) => e.preventDefault()}>
      <fieldset class="presets">
        <legend>Time range</legend>
        {PRESETS.map((p) => (
          <button
            type="button"
            aria-pressed={!custom && since === p.since}
            onClick={() => set({ since: p.since, until: '' })}
            data-since={p.since}
          >
            {p.label}
          </button>
        ))}
      </fieldset>
      <label>
        From
        <input
          type="datetime-local"
          value={custom ? toLocalInput(since) : ''}
          onChange={(e) => set({ since: fromLocalInput(e.currentTarget.value) || DEFAULT_SINCE })}
        />
      </label>
      <label>
        To
        <input
          type="datetime-local"
          value={toLocalInput(view.q.until)}
          onChange={(e) => set({ until: fromLocalInput(e.currentTarget.value) })}
        />
      </label>
      {FILTERS.map((f) => {
        const values = options.state === 'ready' ? (options.data?.[f] ?? []) : [];
        const current = view.q[f] ?? '';
        const all = current && !values.includes(current) ? [current, ...values] : values;
        return (
          <label>
            {f[0]!.toUpperCase() + f.slice(1)}
            <select name={f} value={current} onChange={(e) => set({ [f]: e.currentTarget.value })}>
              <option value="">all</option>
              {all.map((v) => (
                <option value={v}>{f === 'repo' ? repoName(v) : v}</option>
              ))}
            </select>
          </label>
        );
      })}
    </form>
  );
}

function App(): JSX.Element {
  const [view, setView] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const on = (): void => setView(parseHash(window.location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  useEffect(() => {
    document.title = `${TITLES[view.page]} · harness-meter`;
  }, [view.page]);
  const go = (v: View): void => {
    window.location.hash = hrefOf(v);
  };
  const globalQ = Object.fromEntries(
    Object.entries(view.q).filter(
      ([k]) => k === 'since' || k === 'until' || (FILTERS as readonly string[]).includes(k),
    ),
  );
  const [showKey, setShowKey] = useState(false);
  let content: JSX.Element;
  switch (view.page) {
    case 'prs':
      content = <PullRequests view={view} />;
      break;
    case 'pr':
      content = <PullRequest view={view} />;
      break;
    case 'session':
      content = <Session view={view} />;
      break;
    case 'waste':
      content = <Waste view={view} go={go} />;
      break;
    case 'alerts':
      content = <Alerts view={view} />;
      break;
    default:
      content = <Overview view={view} go={go} />;
  }
  const active = view.page === 'pr' || view.page === 'session' ? 'prs' : view.page;
  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <h1>
          <span aria-hidden="true">◆</span> harness-meter
        </h1>
        <nav aria-label="Pages">
          {NAV.map((n) => (
            <a
              href={hrefOf({ page: n.page, args: [], q: globalQ })}
              aria-current={active === n.page ? 'page' : undefined}
            >
              {n.label}
            </a>
          ))}
        </nav>
        <button
          type="button"
          class="key-toggle"
          aria-expanded={showKey}
          onClick={() => setShowKey(!showKey)}
        >
          {apiKey() ? 'API key set' : 'API key'}
        </button>
      </header>
      {showKey ? <KeyForm /> : null}
      {view.page === 'session' ? null : <Controls view={view} go={go} />}
      <main id="main" tabIndex={-1}>
        <h2 class="visually-hidden">{TITLES[view.page]}</h2>
        {content}
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
