/**
 * Expands a Grafana panel's SQL as Grafana and grafana-clickhouse-datasource would: template variables
 * first (`$name`, `${name}`, `${name:sqlstring}`; a custom all value is inserted as is, unformatted),
 * then the plugin's macros, as its pkg/macros/macros.go writes them (times in whole seconds or ms).
 */
export interface GrafanaContext {
  from: Date;
  to: Date;
  intervalSeconds: number;
  /** Variable values; the string '$__all' selects "All". */
  vars: Record<string, string>;
  /** allValue per variable, for "All". */
  allValues?: Record<string, string>;
}

const sqlString = (v: string): string => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
const sec = (d: Date): number => Math.floor(d.getTime() / 1000);

export function expandGrafanaSql(sql: string, ctx: GrafanaContext): string {
  const value = (name: string, format: string | undefined): string => {
    if (!(name in ctx.vars)) throw new Error(`Unknown dashboard variable ${name}`);
    const v = ctx.vars[name]!;
    if (v === '$__all') {
      const all = ctx.allValues?.[name];
      if (all === undefined) throw new Error(`Variable ${name} has no all value`);
      return all;
    }
    if (format === undefined || format === 'raw') return v;
    if (format === 'sqlstring') return sqlString(v);
    throw new Error(`Format ${format} not handled by this expander`);
  };
  const withVars = sql
    .replace(/\$\{([A-Za-z0-9_]+)(?::([a-z]+))?\}/g, (_m, name: string, fmt?: string) =>
      value(name, fmt),
    )
    .replace(/\$(?!__)([A-Za-z_][A-Za-z0-9_]*)/g, (_m, name: string) => value(name, undefined));
  const from = sec(ctx.from);
  const to = sec(ctx.to);
  const interval = Math.max(1, Math.floor(ctx.intervalSeconds));
  const macros: [RegExp, (arg: string) => string][] = [
    [
      /\$__timeFilter_ms\(([^)]+)\)/g,
      (c) =>
        `${c} >= fromUnixTimestamp64Milli(${String(ctx.from.getTime())}) AND ${c} <= fromUnixTimestamp64Milli(${String(ctx.to.getTime())})`,
    ],
    [
      /\$__timeFilter\(([^)]+)\)/g,
      (c) => `${c} >= toDateTime(${String(from)}) AND ${c} <= toDateTime(${String(to)})`,
    ],
    [
      /\$__dateFilter\(([^)]+)\)/g,
      (c) =>
        `${c} >= toDate('${ctx.from.toISOString().slice(0, 10)}') AND ${c} <= toDate('${ctx.to.toISOString().slice(0, 10)}')`,
    ],
    [
      /\$__timeInterval_ms\(([^)]+)\)/g,
      (c) =>
        `toStartOfInterval(toDateTime64(${c}, 3), INTERVAL ${String(interval * 1000)} millisecond)`,
    ],
    [
      /\$__timeInterval\(([^)]+)\)/g,
      (c) => `toStartOfInterval(toDateTime(${c}), INTERVAL ${String(interval)} second)`,
    ],
    [/\$__fromTime_ms\b/g, () => `fromUnixTimestamp64Milli(${String(ctx.from.getTime())})`],
    [/\$__toTime_ms\b/g, () => `fromUnixTimestamp64Milli(${String(ctx.to.getTime())})`],
    [/\$__fromTime\b/g, () => `toDateTime(${String(from)})`],
    [/\$__toTime\b/g, () => `toDateTime(${String(to)})`],
    [/\$__interval_s\b/g, () => String(interval)],
  ];
  let out = withVars;
  for (const [re, f] of macros) out = out.replace(re, (_m, arg?: string) => f(arg ?? ''));
  const left = /\$__[A-Za-z_]+/.exec(out);
  if (left) throw new Error(`Macro ${left[0]} not expanded`);
  return out;
}
