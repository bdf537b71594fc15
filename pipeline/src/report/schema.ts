/**
 * A JSON Schema for each report's machine output (`--json`, the HTTP API), built from the typed
 * row of `@harness-meter/queries`: each field map below must name every field of its row type and
 * nothing else (`satisfies Fields<Row>`), so a field added to a report without its schema does
 * not compile. `harness-meter report <name> --schema` prints it; a test checks real rows against it.
 */
import type {
  AlertReportRow,
  BlockRow,
  ChurnRow,
  DefectEscapeRow,
  SurvivalRow,
  CostByRow,
  CostModelRow,
  CostDriftRow,
  CostPerPrRow,
  DeveloperSpendRow,
  FirstPassRow,
  LinkageRow,
  MergedPrCostRow,
  MetricsCheckRow,
  PrOutcomeRow,
  UnpricedRow,
  UsageCheckRow,
  WasteRow,
} from '@harness-meter/queries';
import type { ReportName } from './service.js';

/**
 * string, integer, number (may be fractional), boolean, strings (a list of strings), nanos (integer nano-USD as a decimal string), time
 * (ISO-8601 UTC), or a list of allowed strings; `?` at the end: may be null.
 */
type FieldType =
  'string' | 'integer' | 'number' | 'boolean' | 'strings' | 'nanos' | 'time' | readonly string[];
type Field =
  | FieldType
  | { type: FieldType; nullable: true; note?: string }
  | { type: FieldType; note: string }
  | NestedRows;
/** A field that is a list of rows of their own (cost --breakdown's `models`), present only on request. */
interface NestedRows {
  rows: Record<string, Field>;
  optional: true;
  note: string;
}
type Fields<T> = { [K in keyof Required<T>]: Field };

const n = (type: FieldType, note?: string): Field =>
  note === undefined ? { type, nullable: true } : { type, nullable: true, note };

const USAGE = {
  sessions: 'integer',
  llm_calls: 'integer',
  tool_calls: 'integer',
  input_tokens: 'integer',
  output_tokens: 'integer',
  cache_read_tokens: 'integer',
  cache_write_tokens: 'integer',
  reasoning_tokens: 'integer',
  cost_nanos: 'nanos',
  cost_usd: 'number',
  unpriced_calls: 'integer',
} as const;

const PR_OUTCOME = {
  cohort: ['agent-assisted', 'other'],
  size: 'string',
  prs: 'integer',
  median_hours_to_merge: n('number'),
  p90_hours_to_merge: n('number'),
  median_hours_to_first_review: n('number'),
  prs_with_size: 'integer',
  median_lines_changed: n('number'),
  avg_lines_changed: n('number'),
  median_review_hours_per_100_lines: n('number'),
} satisfies Fields<PrOutcomeRow>;

/** The fields every git-history report (churn, survival, defects) starts with. */
const GIT_ROW = {
  by: ['repo', 'team', 'developer', 'model', 'intent', 'pr'],
  key: 'string',
  cohort: ['agent', 'human'],
  status: ['final', 'provisional'],
  prs: 'integer',
} as const;

const ROWS: Record<ReportName, Record<string, Field>> = {
  'cost-per-pr': {
    ...USAGE,
    repo: 'string',
    pr: n('integer', 'null: spend with no PR known'),
    wasted_tokens: 'integer',
    wasted_cost_nanos: 'nanos',
    wasted_cost_usd: 'number',
    first_seen: { type: 'time', note: 'start of the hour (the PR reports read an hourly rollup)' },
    last_seen: { type: 'time', note: 'start of the hour (the PR reports read an hourly rollup)' },
    rules: 'string',
    state: n(['open', 'merged', 'closed', 'unknown']),
    merged_at: n('time'),
  } satisfies Fields<CostPerPrRow>,
  cost: {
    ...USAGE,
    by: 'string',
    key: 'string',
    models: {
      rows: { ...USAGE, model: 'string' } satisfies Fields<CostModelRow>,
      optional: true,
      note: "only with breakdown=model (the CLI's --breakdown): the row's usage per model, most cost first; tokens, calls and cost add up to the row's, sessions do not (a session may use several models); model '' holds tool calls",
    },
  } satisfies Fields<CostByRow>,
  waste: {
    by: 'string',
    key: 'string',
    occurrences: 'integer',
    sessions: 'integer',
    wasted_tokens: 'integer',
    carried_tokens: 'integer',
    direct_cost_nanos: 'nanos',
    carried_cost_nanos: 'nanos',
    cost_usd: 'number',
    cost_nanos: 'nanos',
    max_loop_length: 'integer',
  } satisfies Fields<WasteRow>,
  unpriced: {
    model: 'string',
    provider: 'string',
    calls: 'integer',
    input_tokens: 'integer',
    output_tokens: 'integer',
    cache_read_tokens: 'integer',
    cache_write_tokens: 'integer',
    first_seen: 'time',
    last_seen: 'time',
  } satisfies Fields<UnpricedRow>,
  'usage-check': {
    model: 'string',
    provider: 'string',
    source: 'string',
    check: ['cache_exceeds_input', 'cache_split_mismatch'],
    calls: 'integer',
    input_tokens: 'integer',
    cache_read_tokens: 'integer',
    cache_write_tokens: 'integer',
    example_trace: 'string',
    first_seen: 'time',
    last_seen: 'time',
  } satisfies Fields<UsageCheckRow>,
  'cost-drift': {
    model: 'string',
    provider: 'string',
    reason: 'string',
    calls: 'integer',
    reported_nanos: 'nanos',
    computed_nanos: 'nanos',
    drift_nanos: 'nanos',
    reported_usd: 'number',
    computed_usd: 'number',
    drift_usd: 'number',
    first_seen: 'time',
    last_seen: 'time',
  } satisfies Fields<CostDriftRow>,
  'metrics-check': {
    session_id: 'string',
    source: 'string',
    metric_input_tokens: 'integer',
    event_input_tokens: 'integer',
    metric_output_tokens: 'integer',
    event_output_tokens: 'integer',
    metric_cache_read_tokens: 'integer',
    event_cache_read_tokens: 'integer',
    metric_cache_creation_tokens: 'integer',
    event_cache_creation_tokens: 'integer',
    metric_cost_nanos: 'nanos',
    event_reported_cost_nanos: 'nanos',
    event_computed_cost_nanos: 'nanos',
    status: 'string',
  } satisfies Fields<MetricsCheckRow>,
  alerts: {
    at: 'time',
    state: ['warn', 'firing', 'resolved'],
    rule_id: 'string',
    rule_type: 'string',
    entity_kind: 'string',
    entity: 'string',
    window_start: 'time',
    unit: 'string',
    figure: 'string',
    threshold: 'string',
    baseline: 'string',
    message: 'string',
    delivery: 'string',
    attempts: 'integer',
    alert_id: 'string',
    figure_text: 'string',
    threshold_text: 'string',
  } satisfies Fields<AlertReportRow>,
  linkage: {
    rule: ['explicit', 'commit', 'branch', 'trailer', 'unattributed'],
    sessions: 'integer',
    prs: 'integer',
    llm_calls: 'integer',
    tool_calls: 'integer',
    cost_nanos: 'nanos',
    cost_usd: 'number',
    share_pct: n('number'),
    unpriced_calls: 'integer',
  } satisfies Fields<LinkageRow>,
  'cost-per-merged-pr': {
    repo: 'string',
    merged_prs: 'integer',
    agent_merged_prs: 'integer',
    sessions: 'integer',
    llm_calls: 'integer',
    cost_nanos: 'nanos',
    cost_usd: 'number',
    cost_per_merged_pr_nanos: n('nanos'),
    cost_per_merged_pr_usd: n('number'),
    cost_per_agent_pr_nanos: n('nanos'),
    unpriced_calls: 'integer',
    unattributed_cost_nanos: 'nanos',
    unattributed_cost_usd: 'number',
  } satisfies Fields<MergedPrCostRow>,
  'spend-per-developer': {
    period: 'string',
    active_developers: 'integer',
    cost_nanos: 'nanos',
    cost_usd: 'number',
    developer_cost_nanos: 'nanos',
    cost_per_active_developer_nanos: n('nanos'),
    cost_per_active_developer_usd: n('number'),
    unknown_developer_cost_nanos: 'nanos',
    llm_calls: 'integer',
    unpriced_calls: 'integer',
  } satisfies Fields<DeveloperSpendRow>,
  'time-to-merge': PR_OUTCOME,
  'review-velocity': PR_OUTCOME,
  'first-pass': {
    repo: 'string',
    sessions: 'integer',
    unlinked_sessions: 'integer',
    pending_sessions: 'integer',
    resolved_sessions: 'integer',
    first_pass_sessions: 'integer',
    changes_requested_sessions: 'integer',
    failing_check_sessions: 'integer',
    closed_unmerged_sessions: 'integer',
    first_pass_pct: n('number'),
  } satisfies Fields<FirstPassRow>,
  blocks: {
    block_start: 'time',
    block_end: 'time',
    last_call: 'time',
    active: 'boolean',
    llm_calls: 'integer',
    input_tokens: 'integer',
    output_tokens: 'integer',
    cache_read_tokens: 'integer',
    cache_write_tokens: 'integer',
    cost_nanos: 'nanos',
    cost_usd: 'number',
    unpriced_calls: 'integer',
    models: 'string',
  } satisfies Fields<BlockRow>,
  churn: {
    ...GIT_ROW,
    lines_added: 'integer',
    rewritten_14d: 'integer',
    removed_14d: 'integer',
    churned_14d: 'integer',
    churn_pct: n('number', 'null: no line added'),
  } satisfies Fields<ChurnRow>,
  survival: {
    ...GIT_ROW,
    lines_added: 'integer',
    rewritten_30d: 'integer',
    removed_30d: 'integer',
    alive_30d: 'integer',
    survival_pct: n('number', 'null: no line added'),
  } satisfies Fields<SurvivalRow>,
  defects: {
    ...GIT_ROW,
    defect_prs: 'integer',
    defect_escape_pct: n('number', 'null: no PR'),
    defects: 'integer',
    reverts: 'integer',
    fixes: 'integer',
    incidents: 'integer',
    evidence: 'strings',
  } satisfies Fields<DefectEscapeRow>,
};

type JsonSchema = Record<string, unknown>;

const isNested = (f: Field): f is NestedRows => typeof f === 'object' && 'rows' in f;

function parts(f: Field): { type: FieldType; nullable: boolean; note: string | undefined } {
  if (typeof f === 'string' || Array.isArray(f))
    return { type: f as FieldType, nullable: false, note: undefined };
  const o = f as { type: FieldType; nullable?: true; note?: string };
  return { type: o.type, nullable: o.nullable === true, note: o.note };
}

function fieldSchema(f: Field): JsonSchema {
  if (isNested(f)) return { type: 'array', description: f.note, items: rowSchema(f.rows) };
  const { type, nullable, note } = parts(f);
  const base: JsonSchema = Array.isArray(type)
    ? { type: 'string', enum: [...(type as readonly string[])] }
    : type === 'nanos'
      ? { type: 'string', pattern: '^-?\\d+$', description: 'integer nano-USD (1 USD = 10^9)' }
      : type === 'time'
        ? {
            type: 'string',
            format: 'date-time',
            pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$',
          }
        : type === 'strings'
          ? { type: 'array', items: { type: 'string' } }
          : { type };
  if (note)
    base.description = `${typeof base.description === 'string' ? `${base.description}; ` : ''}${note}`;
  if (!nullable) return base;
  return {
    ...base,
    type: [base.type as string, 'null'],
    ...(base.enum ? { enum: [...(base.enum as string[]), null] } : {}),
  };
}

/** The schema of one row: its fields, money as machineRow (machine.ts) writes it. */
function rowSchema(fields: Record<string, Field>): JsonSchema {
  // machineRow: money null when no call was priced, and cost_complete.
  const counted = 'cost_nanos' in fields && 'unpriced_calls' in fields;
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [k, f] of Object.entries(fields)) {
    const moneyNull = counted && (k === 'cost_nanos' || k === 'cost_usd');
    if (!(isNested(f) && f.optional)) required.push(k);
    properties[k] = fieldSchema(
      moneyNull
        ? n(
            typeof f === 'object' && !Array.isArray(f)
              ? (f as { type: FieldType }).type
              : (f as FieldType),
            'null when none of the calls was priced (unknown, never $0)',
          )
        : f,
    );
  }
  if (counted) {
    properties.cost_complete = {
      type: 'boolean',
      description: 'every LLM call of the row was priced',
    };
    required.push('cost_complete');
  }
  return { type: 'object', required, additionalProperties: false, properties };
}

/** The JSON Schema of `--json` / `GET /api/v1/reports/<name>` for one report. */
export function reportSchema(name: ReportName): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `harness-meter/reports/${name}.schema.json`,
    title: `harness-meter report ${name}`,
    type: 'object',
    required: ['report', 'since', 'until', 'rows'],
    additionalProperties: false,
    properties: {
      report: { const: name },
      since: { type: 'string', format: 'date-time' },
      until: { type: 'string', format: 'date-time' },
      rows: { type: 'array', items: rowSchema(ROWS[name]) },
    },
  };
}

/**
 * The problems of one report answer against its schema (empty: valid). Checks what the schemas
 * use: type (with null), enum, pattern, required and no other fields.
 */
export function schemaProblems(name: ReportName, body: unknown): string[] {
  const problems: string[] = [];
  const schema = reportSchema(name);
  const b = body as Record<string, unknown>;
  if (b.report !== name) problems.push(`report: ${JSON.stringify(b.report)}`);
  const items = ((schema.properties as JsonSchema).rows as JsonSchema).items as JsonSchema;
  if (!Array.isArray(b.rows)) problems.push('rows: not an array');
  else rowsProblems('rows', b.rows as unknown[], items, problems);
  return problems;
}

function rowsProblems(path: string, rows: unknown[], items: JsonSchema, problems: string[]): void {
  const props = items.properties as Record<string, JsonSchema>;
  const required = new Set(items.required as string[]);
  rows.forEach((item, i) => {
    const row = (item ?? {}) as Record<string, unknown>;
    for (const k of Object.keys(row))
      if (!(k in props)) problems.push(`${path}[${i}].${k}: not in the schema`);
    for (const [k, p] of Object.entries(props)) {
      if (!(k in row)) {
        if (required.has(k)) problems.push(`${path}[${i}].${k}: missing`);
        continue;
      }
      const v = row[k];
      const types = ([] as string[]).concat(p.type as string | string[]);
      const actual =
        v === null
          ? 'null'
          : Array.isArray(v)
            ? 'array'
            : Number.isInteger(v)
              ? 'integer'
              : typeof v;
      const ok = types.some((t) => t === actual || (t === 'number' && actual === 'integer'));
      if (!ok)
        problems.push(`${path}[${i}].${k}: ${JSON.stringify(v)} is not ${types.join(' or ')}`);
      if (ok && typeof v === 'string') {
        if (Array.isArray(p.enum) && !p.enum.includes(v))
          problems.push(`${path}[${i}].${k}: ${v} not in enum`);
        if (typeof p.pattern === 'string' && !new RegExp(p.pattern).test(v))
          problems.push(`${path}[${i}].${k}: ${JSON.stringify(v)} does not match ${p.pattern}`);
      }
      const nested = p.items as JsonSchema | undefined;
      if (ok && Array.isArray(v) && nested?.type === 'object')
        rowsProblems(`${path}[${i}].${k}`, v, nested, problems);
    }
  });
}
