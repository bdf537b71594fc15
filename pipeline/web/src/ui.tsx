import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, apiKey, setApiKey } from './api.ts';

export type Load<T> =
  { state: 'loading' } | { state: 'error'; error: ApiError | Error } | { state: 'ready'; data: T };

/** Runs `load` whenever `deps` change; keeps the latest answer only. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Load<T> {
  const [value, setValue] = useState<Load<T>>({ state: 'loading' });
  useEffect(() => {
    let live = true;
    setValue({ state: 'loading' });
    load().then(
      (data) => live && setValue({ state: 'ready', data }),
      (error: unknown) =>
        live &&
        setValue({
          state: 'error',
          error: error instanceof Error ? error : new Error(String(error)),
        }),
    );
    return () => {
      live = false;
    };
  }, deps);
  return value;
}

export function Loading({ what }: { what: string }): JSX.Element {
  return (
    <p class="loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function KeyForm(): JSX.Element {
  const [key, setKey] = useState(apiKey());
  return (
    <form
      class="key-form"
      onSubmit={(e) => {
        e.preventDefault();
        setApiKey(key);
        // Every view asks again with the key (sessionStorage outlives the reload, not the tab).
        window.location.reload();
      }}
    >
      <label>
        API key (read role), kept for this tab only
        <input
          type="password"
          autocomplete="off"
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
        />
      </label>
      <button type="submit">Use key</button>
    </form>
  );
}

export function ErrorBox({ error }: { error: Error }): JSX.Element {
  const auth = error instanceof ApiError && error.auth;
  return (
    <div class="error" role="alert">
      <p>{error.message}</p>
      {auth ? <KeyForm /> : null}
    </div>
  );
}

/** Renders a load: loading, error, or the content. */
export function Loaded<T>(props: {
  load: Load<T>;
  what: string;
  children: (data: T) => ComponentChildren;
}): JSX.Element {
  const l = props.load;
  if (l.state === 'loading') return <Loading what={props.what} />;
  if (l.state === 'error') return <ErrorBox error={l.error} />;
  return <>{props.children(l.data)}</>;
}

export interface Column<R> {
  key: string;
  label: string;
  /** Sort value; absent: not sortable. */
  sort?: (r: R) => number | string;
  num?: boolean;
  cell: (r: R) => ComponentChildren;
}

/** A table with sortable columns (buttons in the headers, aria-sort on the sorted one). */
export function Table<R>(props: {
  caption: string;
  columns: Column<R>[];
  rows: R[];
  rowKey: (r: R) => string;
  initialSort?: { key: string; desc: boolean };
  testId?: string;
}): JSX.Element {
  const [sort, setSort] = useState(props.initialSort ?? null);
  const col = sort ? props.columns.find((c) => c.key === sort.key) : undefined;
  const rows = [...props.rows];
  if (sort && col?.sort) {
    const f = col.sort;
    rows.sort((a, b) => {
      const x = f(a);
      const y = f(b);
      const c = x < y ? -1 : x > y ? 1 : 0;
      return sort.desc ? -c : c;
    });
  }
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label={props.caption}>
      <table data-testid={props.testId}>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th
                scope="col"
                class={c.num ? 'num' : undefined}
                aria-sort={
                  sort?.key === c.key ? (sort.desc ? 'descending' : 'ascending') : undefined
                }
              >
                {c.sort ? (
                  <button
                    type="button"
                    class="sort"
                    onClick={() =>
                      setSort({ key: c.key, desc: sort?.key === c.key ? !sort.desc : true })
                    }
                  >
                    {c.label}
                    <span aria-hidden="true">
                      {sort?.key === c.key ? (sort.desc ? ' ▾' : ' ▴') : ''}
                    </span>
                  </button>
                ) : (
                  c.label
                )}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={props.rowKey(r)}>
              {props.columns.map((c) => (
                <td class={c.num ? 'num' : undefined}>{c.cell(r)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Horizontal bars: one row per item, widths relative to the largest (set through the CSSOM). */
export function Bars(props: {
  label: string;
  items: { key: string; label: string; value: number; text: string }[];
}): JSX.Element {
  const max = Math.max(1, ...props.items.map((i) => i.value));
  return (
    <ul class="bars" aria-label={props.label}>
      {props.items.map((i, n) => (
        <li key={i.key}>
          <span class="bar-label">{i.label}</span>
          <span class="bar-track" aria-hidden="true">
            <span
              class={`bar-fill c${String(n % 8)}`}
              style={{ width: `${((i.value / max) * 100).toFixed(1)}%` }}
            />
          </span>
          <span class="bar-value">{i.text}</span>
        </li>
      ))}
    </ul>
  );
}

export function Card(props: {
  title: string;
  value: ComponentChildren;
  note?: ComponentChildren;
  testId?: string;
}): JSX.Element {
  return (
    <div class="card">
      <h3>{props.title}</h3>
      <p class="card-value" data-testid={props.testId}>
        {props.value}
      </p>
      {props.note ? <p class="card-note">{props.note}</p> : null}
    </div>
  );
}
