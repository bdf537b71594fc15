/**
 * Codex CLI rollouts: `~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl`, one `{timestamp, type,
 * payload}` per line (openai/codex: codex-rs/protocol/src/protocol.rs `RolloutItem`,
 * `SessionMeta`, `TurnContextItem`, `TokenCountEvent` / `TokenUsageInfo` / `TokenUsage`;
 * codex-rs/protocol/src/models.rs `ResponseItem`; and ryoppippi/ccusage:
 * rust/crates/ccusage/src/adapter/codex/README.md, parser.rs):
 *   `session_meta`: `id`, `cwd`, `git.{commit_hash, branch, repository_url}`;
 *   `turn_context`: `model`, `cwd`;
 *   `event_msg` with `payload.type = token_count`: `info.total_token_usage` (cumulative for the
 *   session) and `info.last_token_usage` (the last response), each `{input_tokens,
 *   cached_input_tokens, output_tokens, reasoning_output_tokens, total_tokens}`;
 *   `response_item` with `payload.type` `function_call` (`name`, `arguments` as a JSON string,
 *   `call_id`), `custom_tool_call` (`name`, `input`, `call_id`), `function_call_output` /
 *   `custom_tool_call_output` (`call_id`, `output`).
 * OpenAI counts: input includes cached tokens, output includes reasoning (already the conventions').
 * `token_count` is emitted again when nothing changed (e.g. after a rate-limit update): an event
 * whose cumulative total equals the previous one adds nothing; otherwise the call's usage is the
 * increment of the cumulative totals, so no total is ever added twice.
 */
import type { RawSpanParts } from '../decode/traces.js';
import {
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
} from '@harness-meter/instrumentation/semconv';
import {
  count,
  earlier,
  isObject,
  parseObjectLine,
  isoToNanos,
  newStats,
  sessionAttributes,
  span,
  str,
  toolAttributes,
  toolResultText,
  type ResumePoint,
  type TranscriptContext,
  type TranscriptIssue,
  type TranscriptParser,
} from './common.js';

interface Tokens {
  input: number;
  cached: number;
  output: number;
  reasoning: number;
  total: number;
}

/** What a rollout said before the resume offset, kept in the import state. */
interface CodexFileState {
  session: string;
  cwd: string;
  branch: string;
  commit: string;
  repo: string;
  model: string;
  /** Cumulative totals of the last token_count, or null before the first. */
  totals: Tokens | null;
}

interface PendingCall {
  id: string;
  name: string;
  args: unknown;
  time: bigint;
  at: ResumePoint;
}

const tokens = (v: unknown): Tokens | undefined => {
  if (!isObject(v)) return undefined;
  const t = {
    input: count(v.input_tokens),
    cached: count(v.cached_input_tokens),
    output: count(v.output_tokens),
    reasoning: count(v.reasoning_output_tokens),
    total: count(v.total_tokens),
  };
  if (t.total === 0) t.total = t.input + t.output;
  return t;
};

const minus = (a: Tokens, b: Tokens): Tokens => ({
  input: Math.max(0, a.input - b.input),
  cached: Math.max(0, a.cached - b.cached),
  output: Math.max(0, a.output - b.output),
  reasoning: Math.max(0, a.reasoning - b.reasoning),
  total: Math.max(0, a.total - b.total),
});

const fresh = (): CodexFileState => ({
  session: '',
  cwd: '',
  branch: '',
  commit: '',
  repo: '',
  model: '',
  totals: null,
});

/** Parses a tool's `arguments` string as JSON when it is JSON. */
function parseArgs(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

/** A shell output that says it failed: JSON with `metadata.exit_code` ≠ 0. */
function failed(output: unknown): boolean {
  const o = parseArgs(output);
  if (isObject(o) && isObject(o.metadata)) return count(o.metadata.exit_code) !== 0;
  return false;
}

/** Creates a Codex rollout parser (pure: no I/O). */
export function createCodexParser(ctx: TranscriptContext): TranscriptParser {
  const stats = newStats();
  const files = new Map<string, { s: CodexFileState; calls: Map<string, PendingCall> }>();
  let out: RawSpanParts[] = [];
  let issues: TranscriptIssue[] = [];
  let file = '';
  let cur = { s: fresh(), calls: new Map<string, PendingCall>() };

  const attrs = (): Record<string, string> =>
    sessionAttributes('codex', cur.s.session, ctx, {
      cwd: cur.s.cwd,
      branch: cur.s.branch,
      commit: cur.s.commit,
      repo: cur.s.repo,
    });

  function emitTool(
    c: PendingCall,
    result: { text: string; error: boolean } | undefined,
    end: bigint,
  ): void {
    out.push(
      span('codex', `${cur.s.session}|tool:${c.id}`, `execute_tool ${c.name}`, false, c.time, end, {
        ...attrs(),
        ...toolAttributes(c.name, c.id, c.args, result, ctx),
      }),
    );
    stats.toolCalls++;
  }

  function bad(lineNo: number, reason: string): void {
    stats.malformed++;
    issues.push({ file, line: lineNo, reason });
  }

  return {
    source: 'codex',
    stats,
    beginFile(name, saved) {
      file = name;
      const known = files.get(name);
      if (known) {
        cur = known;
        return;
      }
      const s = fresh();
      if (isObject(saved)) {
        for (const k of ['session', 'cwd', 'branch', 'commit', 'repo', 'model'] as const)
          s[k] = str(saved[k]);
        const t = saved.totals;
        s.totals = isObject(t)
          ? {
              input: count(t.input),
              cached: count(t.cached),
              output: count(t.output),
              reasoning: count(t.reasoning),
              total: count(t.total),
            }
          : null;
      }
      cur = { s, calls: new Map() };
      files.set(name, cur);
    },
    line(text, lineNo, offset) {
      stats.lines++;
      const v = parseObjectLine(text, lineNo, bad);
      if (!v) return;
      // Rollouts written before the {timestamp, type, payload} envelope carry no token counts.
      if (!isObject(v.payload)) return;
      const p = v.payload;
      const s = cur.s;
      switch (v.type) {
        case 'session_meta': {
          s.session = str(p.id) || s.session;
          s.cwd = str(p.cwd) || s.cwd;
          if (isObject(p.git)) {
            s.branch = str(p.git.branch) || s.branch;
            s.commit = str(p.git.commit_hash) || s.commit;
            s.repo = str(p.git.repository_url) || s.repo;
          }
          return;
        }
        case 'turn_context':
          s.model = str(p.model) || s.model;
          s.cwd = str(p.cwd) || s.cwd;
          return;
        case 'event_msg': {
          if (p.type !== 'token_count') return;
          const time = isoToNanos(v.timestamp);
          if (time === undefined) {
            bad(lineNo, 'token_count without a valid timestamp');
            return;
          }
          const info = isObject(p.info) ? p.info : undefined;
          const total = tokens(info?.total_token_usage);
          const last = tokens(info?.last_token_usage);
          let usage: Tokens | undefined;
          if (total) {
            if (s.totals && total.total === s.totals.total && total.input === s.totals.input) {
              stats.duplicates++; // repeated: nothing changed since the last token_count
              return;
            }
            usage = s.totals ? minus(total, s.totals) : (last ?? total);
            s.totals = total;
          } else usage = last;
          if (!usage || usage.input + usage.output === 0) {
            stats.noUsage++;
            return;
          }
          const model = s.model || str(p.model) || str(info?.model);
          if (model === '') {
            stats.noUsage++;
            bad(lineNo, 'token_count before any turn_context names the model');
            return;
          }
          // The cumulative total makes the id stable however often the file is read.
          const identity = `${s.session}|usage:${total ? total.total : `${String(time)}:${lineNo}`}`;
          out.push(
            span('codex', identity, `chat ${model}`, true, time, time, {
              ...attrs(),
              [ATTR_GEN_AI_OPERATION_NAME]: 'chat',
              [ATTR_GEN_AI_PROVIDER_NAME]: 'openai',
              [ATTR_GEN_AI_REQUEST_MODEL]: model,
              [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: String(usage.input),
              [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: String(usage.output),
              [ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: String(usage.cached),
              [ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS]: String(usage.reasoning),
            }),
          );
          stats.llmCalls++;
          return;
        }
        case 'response_item': {
          const time = isoToNanos(v.timestamp);
          if (time === undefined) return;
          if (p.type === 'function_call' || p.type === 'custom_tool_call') {
            const id = str(p.call_id);
            const name = str(p.name);
            if (id === '' || name === '') return;
            const args = p.type === 'function_call' ? parseArgs(p.arguments) : p.input;
            cur.calls.set(id, { id, name, args, time, at: { offset, line: lineNo - 1 } });
          } else if (p.type === 'function_call_output' || p.type === 'custom_tool_call_output') {
            const id = str(p.call_id);
            const call = cur.calls.get(id);
            if (!call) return;
            cur.calls.delete(id);
            emitTool(call, { text: toolResultText(p.output), error: failed(p.output) }, time);
          }
          return;
        }
        default:
          return;
      }
    },
    endFile(end, settled) {
      let resume = end;
      if (settled) {
        for (const c of cur.calls.values()) emitTool(c, undefined, c.time);
        cur.calls.clear();
      } else for (const c of cur.calls.values()) resume = earlier(resume, c.at);
      return resume;
    },
    fileState: () => ({ ...cur.s }),
    take() {
      const r = out;
      out = [];
      return r;
    },
    takeIssues() {
      const r = issues;
      issues = [];
      return r;
    },
  };
}
