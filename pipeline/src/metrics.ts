/**
 * Self-observability in every mode (embedded and Kafka), rendered as Prometheus text on
 * GET /metrics by prom-client, the maintained Prometheus client for Node: counters end in
 * `_total`, durations are `_seconds` histograms, and the process metrics (CPU, memory, event loop
 * lag, GC) come with it. Families are created on first use, so stages name their own metrics.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

type Labels = Record<string, string>;

export interface Metrics {
  /** Adds to a counter (name should end in `_total`). */
  inc(name: string, help: string, by?: number, labels?: Labels): void;
  set(name: string, help: string, value: number, labels?: Labels): void;
  /** Records an observation in a histogram (`_seconds`: latency buckets; otherwise sizes). */
  observe(name: string, help: string, value: number, labels?: Labels): void;
  /** Current value of a counter or gauge (tests, health); histograms: their count. */
  get(name: string, labels?: Labels): number;
  /** Prometheus text exposition of every metric. */
  render(): Promise<string>;
  /** The content type of `render()`. */
  readonly contentType: string;
}

/** Histogram buckets of sizes (messages per batch, spans per request). */
const SIZE_BUCKETS = [1, 5, 10, 50, 100, 500, 1000, 5000, 10_000];

const labelKey = (labels: Labels): string =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k] ?? ''}`)
    .join(',');

export function createMetrics(prefix = 'harness_meter_'): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix });
  const counters = new Map<string, Counter>();
  const gauges = new Map<string, Gauge>();
  const histograms = new Map<string, Histogram>();
  // prom-client's own reads are async; `get` is answered from this mirror.
  const values = new Map<string, number>();
  const mirror = (name: string, labels: Labels): string => `${name}{${labelKey(labels)}}`;

  // Metrics never break the stage that counts: a call prom-client refuses (labels that differ from
  // the family's first use, a negative increment) is dropped and counted.
  const guard = (f: () => void): void => {
    try {
      f();
    } catch {
      refused.inc();
    }
  };
  const refused = new Counter({
    name: `${prefix}metrics_refused_total`,
    help: 'Metric updates refused by prom-client (a label set or value that does not fit).',
    registers: [registry],
  });
  const api: Metrics = {
    contentType: registry.contentType,
    inc(name, help, by = 1, labels = {}) {
      let c = counters.get(name);
      if (!c) {
        c = new Counter({
          name: prefix + name,
          help,
          labelNames: Object.keys(labels),
          registers: [registry],
        });
        counters.set(name, c);
      }
      c.inc(labels, by);
      const k = mirror(name, labels);
      values.set(k, (values.get(k) ?? 0) + by);
    },
    set(name, help, value, labels = {}) {
      let g = gauges.get(name);
      if (!g) {
        g = new Gauge({
          name: prefix + name,
          help,
          labelNames: Object.keys(labels),
          registers: [registry],
        });
        gauges.set(name, g);
      }
      g.set(labels, value);
      values.set(mirror(name, labels), value);
    },
    observe(name, help, value, labels = {}) {
      let h = histograms.get(name);
      if (!h) {
        h = new Histogram({
          name: prefix + name,
          help,
          labelNames: Object.keys(labels),
          ...(name.endsWith('_seconds') ? {} : { buckets: SIZE_BUCKETS }),
          registers: [registry],
        });
        histograms.set(name, h);
      }
      h.observe(labels, value);
      const k = mirror(name, labels);
      values.set(k, (values.get(k) ?? 0) + 1);
    },
    get(name, labels = {}) {
      return values.get(mirror(name, labels)) ?? 0;
    },
    render: () => registry.metrics(),
  };
  return {
    ...api,
    inc: (...a) => guard(() => api.inc(...a)),
    set: (...a) => guard(() => api.set(...a)),
    observe: (...a) => guard(() => api.observe(...a)),
  };
}
