/**
 * Claude Code transcripts: `~/.claude/projects/<project>/<session>.jsonl` (and subagent files
 * below `<session>/`), one JSON object per line. Fields used, as Claude Code writes them and as
 * ccusage reads them (ryoppippi/ccusage: rust/crates/ccusage/src/adapter/claude/daily.rs,
 * adapter/claude/README.md):
 *   assistant lines: `message.id`, `requestId`, `message.model`, `message.usage` (`input_tokens`
 *   excludes cache; `cache_read_input_tokens`, `cache_creation_input_tokens`,
 *   `cache_creation.ephemeral_5m_input_tokens` / `ephemeral_1h_input_tokens`, `service_tier`,
 *   `server_tool_use.web_search_requests`), `message.content[]` with `tool_use` blocks (`id`,
 *   `name`, `input`), `isApiErrorMessage`; user lines: `tool_result` blocks (`tool_use_id`,
 *   `content`, `is_error`); every line: `sessionId`, `cwd`, `gitBranch`, `isSidechain`, `agentId`,
 *   `timestamp`; older versions also wrote `costUSD` (kept as the reported cost).
 * Rules where the naive reading is wrong:
 *   - one API response is written as one line per content block, each repeating `message.id`,
 *     `requestId` and the usage: one LLM call per (message.id, requestId);
 *   - streamed lines may carry partial `output_tokens` before the last: the largest usage wins
 *     (ccusage's rule: the larger token total replaces the smaller);
 *   - a resumed session copies earlier messages into a new file: the same key is counted once
 *     across files (in memory for this run; across runs by the span ids, see README);
 *   - `<synthetic>` messages and API error entries carry no billable usage;
 *   - a sidechain (Task subagent, `/btw`) that replays a parent message with the same message id
 *     but a new request id is a copy (ccusage issue #913): dropped; its own messages count, in the
 *     parent's session, marked `harness_meter.subagent`.
 */
import type { RawSpanParts } from '../decode/traces.js';
import {
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_HM_REPORTED_COST_USD,
  ATTR_HM_SERVICE_TIER,
  ATTR_HM_USAGE_CACHE_CREATION_1H,
  ATTR_HM_USAGE_CACHE_CREATION_5M,
  ATTR_HM_USAGE_WEB_SEARCH_REQUESTS,
} from '@harness-meter/instrumentation/semconv';
import {
  ATTR_HM_SUBAGENT,
  ATTR_HM_SUBAGENT_ID,
  BoundedSet,
  count,
  DEDUP_MEMORY_KEYS,
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

interface Entry {
  sessionId: string;
  cwd: string;
  branch: string;
  sidechain: boolean;
  agentId: string;
  time: bigint;
}

interface PendingMessage {
  key: string;
  messageId: string;
  at: ResumePoint;
  entry: Entry;
  model: string;
  usage: Record<string, unknown>;
  total: number;
  /** `costUSD`, which older Claude Code versions wrote on each entry: kept as the reported cost. */
  costUsd: string;
}

interface PendingTool {
  id: string;
  name: string;
  input: unknown;
  at: ResumePoint;
  entry: Entry;
}

interface FileState {
  message: PendingMessage | undefined;
  tools: Map<string, PendingTool>;
}

const usageTotal = (u: Record<string, unknown>): number =>
  count(u.input_tokens) +
  count(u.output_tokens) +
  count(u.cache_read_input_tokens) +
  count(u.cache_creation_input_tokens);

/** Creates a Claude Code transcript parser (pure: no I/O). */
export function createClaudeCodeParser(ctx: TranscriptContext): TranscriptParser {
  const emitted = new BoundedSet(DEDUP_MEMORY_KEYS);
  /** message ids seen outside a sidechain: a sidechain line with one of them is a replay. */
  const parentMessageIds = new BoundedSet(DEDUP_MEMORY_KEYS);
  const files = new Map<string, FileState>();
  const stats = newStats();
  let out: RawSpanParts[] = [];
  let issues: TranscriptIssue[] = [];
  let file = '';
  let state: FileState = { message: undefined, tools: new Map() };

  // Many calls share their session, folder and branch: their attributes are built once.
  const contexts = new Map<string, Readonly<Record<string, string>>>();
  const attrsOf = (e: Entry): Readonly<Record<string, string>> => {
    const key = `${e.sessionId}\u0000${e.cwd}\u0000${e.branch}\u0000${e.sidechain ? e.agentId || '-' : ''}`;
    const known = contexts.get(key);
    if (known) return known;
    const a = sessionAttributes('claude-code', e.sessionId, ctx, {
      cwd: e.cwd,
      branch: e.branch,
    });
    if (e.sidechain) {
      a[ATTR_HM_SUBAGENT] = 'true';
      if (e.agentId) a[ATTR_HM_SUBAGENT_ID] = e.agentId;
    }
    if (contexts.size >= 10_000) contexts.clear();
    contexts.set(key, a);
    return a;
  };

  function emitMessage(m: PendingMessage): void {
    if (emitted.has(m.key)) {
      stats.duplicates++;
      return;
    }
    emitted.add(m.key);
    const u = m.usage;
    const fresh = count(u.input_tokens);
    const read = count(u.cache_read_input_tokens);
    const write = count(u.cache_creation_input_tokens);
    const split = isObject(u.cache_creation) ? u.cache_creation : undefined;
    const serverTools = isObject(u.server_tool_use) ? u.server_tool_use : undefined;
    const attributes: Record<string, string> = {
      ...attrsOf(m.entry),
      [ATTR_GEN_AI_OPERATION_NAME]: 'chat',
      [ATTR_GEN_AI_PROVIDER_NAME]: 'anthropic',
      [ATTR_GEN_AI_REQUEST_MODEL]: m.model,
      [ATTR_GEN_AI_RESPONSE_ID]: m.messageId,
      // Anthropic's input_tokens excludes cache; the conventions' input includes it.
      [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: String(fresh + read + write),
      [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: String(count(u.output_tokens)),
      [ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: String(read),
      [ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS]: String(write),
    };
    if (split) {
      attributes[ATTR_HM_USAGE_CACHE_CREATION_5M] = String(count(split.ephemeral_5m_input_tokens));
      attributes[ATTR_HM_USAGE_CACHE_CREATION_1H] = String(count(split.ephemeral_1h_input_tokens));
    }
    if (m.costUsd !== '') attributes[ATTR_HM_REPORTED_COST_USD] = m.costUsd;
    if (typeof u.service_tier === 'string' && u.service_tier !== '')
      attributes[ATTR_HM_SERVICE_TIER] = u.service_tier;
    if (serverTools && count(serverTools.web_search_requests) > 0)
      attributes[ATTR_HM_USAGE_WEB_SEARCH_REQUESTS] = String(
        count(serverTools.web_search_requests),
      );
    out.push(
      span('claude-code', m.key, `chat ${m.model}`, true, m.entry.time, m.entry.time, attributes),
    );
    stats.llmCalls++;
  }

  function emitTool(
    t: PendingTool,
    result: { text: string; error: boolean } | undefined,
    end: bigint,
  ): void {
    const key = `tool:${t.id}`;
    if (emitted.has(key)) {
      stats.duplicates++;
      return;
    }
    emitted.add(key);
    out.push(
      span('claude-code', key, `execute_tool ${t.name}`, false, t.entry.time, end, {
        ...attrsOf(t.entry),
        ...toolAttributes(t.name, t.id, t.input, result, ctx),
      }),
    );
    stats.toolCalls++;
  }

  function bad(lineNo: number, reason: string): void {
    stats.malformed++;
    issues.push({ file, line: lineNo, reason });
  }

  return {
    source: 'claude-code',
    stats,
    beginFile(name) {
      file = name;
      const known = files.get(name);
      if (known) state = known;
      else {
        state = { message: undefined, tools: new Map() };
        files.set(name, state);
      }
    },
    line(text, lineNo, offset) {
      stats.lines++;
      const v = parseObjectLine(text, lineNo, bad);
      if (!v) return;
      const type = v.type;
      if (type !== 'assistant' && type !== 'user') return; // summaries, snapshots, system lines
      const message = v.message;
      if (!isObject(message)) return;
      const time = isoToNanos(v.timestamp);
      if (time === undefined) {
        bad(lineNo, `${type} line without a valid timestamp`);
        return;
      }
      const entry: Entry = {
        sessionId: str(v.sessionId),
        cwd: str(v.cwd),
        branch: str(v.gitBranch),
        sidechain: v.isSidechain === true,
        agentId: str(v.agentId),
        time,
      };
      const content = Array.isArray(message.content) ? message.content : [];
      if (type === 'user') {
        for (const block of content) {
          if (!isObject(block) || block.type !== 'tool_result') continue;
          const id = str(block.tool_use_id);
          const pending = state.tools.get(id);
          if (!pending) continue; // its tool_use was imported before, or is in another file
          state.tools.delete(id);
          emitTool(
            pending,
            { text: toolResultText(block.content), error: block.is_error === true },
            time,
          );
        }
        return;
      }
      // assistant
      const model = str(message.model);
      const messageId = str(message.id);
      const requestId = str(v.requestId);
      if (v.isApiErrorMessage === true || model === '<synthetic>' || model === '') {
        stats.noUsage++;
        return;
      }
      if (entry.sidechain && messageId !== '' && parentMessageIds.has(messageId)) {
        stats.duplicates++; // a sidechain replay of a parent message (ccusage #913)
        return;
      }
      if (!entry.sidechain && messageId !== '') parentMessageIds.add(messageId);
      for (const block of content) {
        if (!isObject(block) || block.type !== 'tool_use') continue;
        const id = str(block.id);
        const name = str(block.name);
        if (id === '' || name === '' || state.tools.has(id)) continue;
        state.tools.set(id, {
          id,
          name,
          input: block.input,
          at: { offset, line: lineNo - 1 },
          entry,
        });
      }
      const usage = message.usage;
      if (!isObject(usage)) {
        stats.noUsage++;
        return;
      }
      const key = messageId
        ? `msg:${messageId}|${requestId}`
        : `line:${entry.sessionId}|${str(v.uuid) || String(time)}`;
      const total = usageTotal(usage);
      const costUsd =
        typeof v.costUSD === 'number' && Number.isFinite(v.costUSD) && v.costUSD >= 0
          ? v.costUSD.toFixed(9)
          : '';
      const cur = state.message;
      if (cur && cur.key === key) {
        // Another block (or a later streaming write) of the same response: keep the final usage.
        if (total > cur.total) {
          cur.usage = usage;
          cur.total = total;
          cur.entry = entry;
          cur.costUsd = costUsd;
        }
        return;
      }
      if (cur) emitMessage(cur);
      state.message = {
        key,
        messageId,
        at: { offset, line: lineNo - 1 },
        entry,
        model,
        usage,
        total,
        costUsd,
      };
    },
    endFile(end, settled) {
      let resume = end;
      if (settled) {
        if (state.message) emitMessage(state.message);
        state.message = undefined;
        for (const t of state.tools.values()) emitTool(t, undefined, t.entry.time);
        state.tools.clear();
        files.delete(file);
      } else {
        if (state.message) resume = earlier(resume, state.message.at);
        for (const t of state.tools.values()) resume = earlier(resume, t.at);
      }
      return resume;
    },
    fileState: () => null,
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
