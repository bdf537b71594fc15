/**
 * Self-observability: a small registry of counters, gauges and summaries rendered as Prometheus
 * text (GET /metrics). No dependency; names follow Prometheus conventions.
 */
type Labels = Record<string, string>;

const key = (labels: Labels): string =>
  Object.keys(labels)
    .sort()
    .map(
      (k) =>
        `${k}="${(labels[k] ?? '').replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
    )
    .join(',');

interface Family {
  help: string;
  type: 'counter' | 'gauge' | 'summary';
  values: Map<string, number>;
  /** summary: sum and count per label set */
  sums: Map<string, { sum: number; count: number; max: number }>;
}

export interface Metrics {
  inc(name: string, help: string, by?: number, labels?: Labels): void;
  set(name: string, help: string, value: number, labels?: Labels): void;
  observe(name: string, help: string, value: number, labels?: Labels): void;
  get(name: string, labels?: Labels): number;
  render(): string;
}

export function createMetrics(prefix = 'harness_meter_'): Metrics {
  const families = new Map<string, Family>();
  const family = (name: string, help: string, type: Family['type']): Family => {
    const full = prefix + name;
    let f = families.get(full);
    if (!f) {
      f = { help, type, values: new Map(), sums: new Map() };
      families.set(full, f);
    }
    return f;
  };
  return {
    inc(name, help, by = 1, labels = {}) {
      const f = family(name, help, 'counter');
      const k = key(labels);
      f.values.set(k, (f.values.get(k) ?? 0) + by);
    },
    set(name, help, value, labels = {}) {
      family(name, help, 'gauge').values.set(key(labels), value);
    },
    observe(name, help, value, labels = {}) {
      const f = family(name, help, 'summary');
      const k = key(labels);
      const s = f.sums.get(k) ?? { sum: 0, count: 0, max: 0 };
      s.sum += value;
      s.count += 1;
      s.max = Math.max(s.max, value);
      f.sums.set(k, s);
    },
    get(name, labels = {}) {
      const f = families.get(prefix + name);
      if (!f) return 0;
      return f.values.get(key(labels)) ?? f.sums.get(key(labels))?.count ?? 0;
    },
    render() {
      const lines: string[] = [];
      for (const [name, f] of [...families.entries()].sort(([a], [b]) => a.localeCompare(b))) {
        lines.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
        const braces = (k: string): string => (k ? `{${k}}` : '');
        for (const [k, v] of f.values) lines.push(`${name}${braces(k)} ${v}`);
        for (const [k, s] of f.sums)
          lines.push(`${name}_sum${braces(k)} ${s.sum}`, `${name}_count${braces(k)} ${s.count}`);
        if (f.sums.size > 0) {
          lines.push(
            `# HELP ${name}_max Largest observation of ${name}.`,
            `# TYPE ${name}_max gauge`,
          );
          for (const [k, s] of f.sums) lines.push(`${name}_max${braces(k)} ${s.max}`);
        }
      }
      return lines.join('\n') + '\n';
    },
  };
}
