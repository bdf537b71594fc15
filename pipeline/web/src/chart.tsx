import type { JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

/** Eight series colours readable on light and dark backgrounds (also used by .c0…c7 in CSS). */
export const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#59a14f',
  '#e15759',
  '#b07aa1',
  '#76b7b2',
  '#edc948',
  '#9c755f',
];

export interface StackSeries {
  label: string;
  values: number[];
}

/**
 * Stacked bars over time (uPlot): `x` in seconds since the epoch, one value per bucket per series.
 * Series are drawn as cumulative sums, largest first, so each bar shows its parts; the legend shows
 * each series' own value.
 */
export function StackedBars(props: {
  label: string;
  x: number[];
  series: StackSeries[];
  format: (v: number) => string;
  height?: number;
}): JSX.Element {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return undefined;
    const cumulative: number[][] = [];
    let running = props.x.map(() => 0);
    for (const s of props.series) {
      running = running.map((v, i) => v + (s.values[i] ?? 0));
      cumulative.push(running);
    }
    const order = props.series.map((_, i) => props.series.length - 1 - i);
    const data: uPlot.AlignedData = [props.x, ...order.map((i) => cumulative[i] ?? [])];
    const bars = uPlot.paths.bars?.({ size: [0.7, 48] });
    const stroke = getComputedStyle(el).getPropertyValue('--muted').trim() || '#888';
    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height: props.height ?? 260,
      scales: {
        x: { time: true },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.08 : 1] },
      },
      axes: [
        { stroke, grid: { stroke: 'rgba(128,128,128,0.15)' } },
        {
          stroke,
          grid: { stroke: 'rgba(128,128,128,0.15)' },
          size: 70,
          values: (_u, vals) => vals.map((v) => props.format(v)),
        },
      ],
      series: [
        {},
        ...order.map((i) => ({
          label: props.series[i]?.label ?? '',
          fill: PALETTE[i % PALETTE.length] ?? '#888',
          stroke: PALETTE[i % PALETTE.length] ?? '#888',
          width: 0,
          points: { show: false },
          ...(bars ? { paths: bars } : {}),
          value: (_u: uPlot, _v: number | null, _si: number, idx: number | null) =>
            idx === null ? '–' : props.format(props.series[i]?.values[idx] ?? 0),
        })),
      ],
      legend: { live: true },
    };
    const plot = new uPlot(opts, data, el);
    const ro = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(280, el.clientWidth), height: opts.height }),
    );
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [props.x, props.series, props.label]);
  return <div class="chart" ref={ref} role="img" aria-label={props.label} />;
}

/**
 * Rows of (bucket `YYYY-MM-DD hh:mm:ss` UTC, key, value) → one series per key over the bucket starts
 * `xs` (seconds; buckets with no row are 0), biggest key first, the rest as "(other)"; keys that
 * add up to 0 are left out.
 */
export function pivot<R>(
  rows: R[],
  xs: number[],
  bucket: (r: R) => string,
  key: (r: R) => string,
  value: (r: R) => number,
  maxSeries = 7,
): { x: number[]; series: StackSeries[] } {
  const totals = new Map<string, number>();
  for (const r of rows) totals.set(key(r), (totals.get(key(r)) ?? 0) + value(r));
  const keys = [...totals.entries()]
    .filter(([, v]) => v !== 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k]) => k);
  const shown = keys.slice(0, maxSeries);
  const other = keys.length > maxSeries;
  const index = new Map(xs.map((b, i) => [b, i]));
  const series: StackSeries[] = [...shown, ...(other ? ['(other)'] : [])].map((k) => ({
    label: k === '' ? '(none)' : k,
    values: xs.map(() => 0),
  }));
  for (const r of rows) {
    const k = key(r);
    if (!totals.get(k)) continue;
    const si = shown.indexOf(k);
    const s = series[si >= 0 ? si : series.length - 1];
    const i = index.get(Date.parse(`${bucket(r).replace(' ', 'T')}Z`) / 1000);
    if (s && i !== undefined) s.values[i] = (s.values[i] ?? 0) + value(r);
  }
  return { x: xs, series };
}
