/**
 * Gemini CLI chat recordings: `~/.gemini/tmp/<project>/chats/session-<time>-<id>.jsonl` (subagents
 * under `chats/<parent session id>/<id>.jsonl`; older versions wrote one `.json` document). From
 * google-gemini/gemini-cli: packages/core/src/services/chatRecordingService.ts (appendRecord,
 * pushMessage, rewriteConversationFile) and chatRecordingTypes.ts (`ConversationRecord`,
 * `MessageRecord`, `ToolCallRecord`, `TokensSummary`); and ryoppippi/ccusage:
 * rust/crates/ccusage/src/adapter/gemini/parser.rs.
 *   first line: `{sessionId, projectHash, startTime, lastUpdated, kind}`; then message records
 *   `{id, timestamp, type: 'user'|'gemini'|'info'|'error'|'warning', model, tokens: {input,
 *   output, cached, thoughts, tool, total}, toolCalls: [{id, name, args, result, status,
 *   timestamp}]}`; `{$set: …}` metadata updates and `{$rewindTo: id}`.
 * A message is appended again, whole, each time it changes (tokens or tool calls arrive later):
 * the last record of an id wins, and a message is final once the next user message follows or
 * the file is settled. Gemini counts: input (promptTokenCount) includes cached content; output
 * (candidatesTokenCount) excludes thinking, billed as output: the conventions' output = output +
 * thoughts; tool-use prompt tokens are input.
 */
import { basename, dirname } from 'node:path';
import type { RawSpanParts } from '../decode/traces.js';
import {
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
} from '@harness-meter/instrumentation/semconv';
import {
  ATTR_HM_SUBAGENT,
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

interface GeminiFileState {
  session: string;
  subagent: boolean;
}

interface Pending {
  record: Record<string, unknown>;
  at: ResumePoint;
}

/** Creates a Gemini CLI chat-recording parser (pure: no I/O). */
export function createGeminiParser(ctx: TranscriptContext): TranscriptParser {
  const stats = newStats();
  const files = new Map<string, { s: GeminiFileState; pending: Map<string, Pending> }>();
  let out: RawSpanParts[] = [];
  let issues: TranscriptIssue[] = [];
  let file = '';
  let cur = { s: { session: '', subagent: false }, pending: new Map<string, Pending>() };

  function attrs(): Record<string, string> {
    const a = sessionAttributes('gemini-cli', cur.s.session, ctx, {});
    if (cur.s.subagent) a[ATTR_HM_SUBAGENT] = 'true';
    return a;
  }

  function emit(m: Record<string, unknown>): void {
    const id = str(m.id);
    const time = isoToNanos(m.timestamp) ?? 0n;
    const model = str(m.model);
    const t = isObject(m.tokens) ? m.tokens : undefined;
    if (t && model !== '') {
      const thoughts = count(t.thoughts);
      out.push(
        span(
          'gemini-cli',
          `${cur.s.session}|msg:${id}`,
          `generate_content ${model}`,
          true,
          time,
          time,
          {
            ...attrs(),
            [ATTR_GEN_AI_OPERATION_NAME]: 'generate_content',
            [ATTR_GEN_AI_PROVIDER_NAME]: 'gcp.gemini',
            [ATTR_GEN_AI_REQUEST_MODEL]: model,
            [ATTR_GEN_AI_RESPONSE_ID]: id,
            [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: String(count(t.input) + count(t.tool)),
            [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: String(count(t.output) + thoughts),
            [ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: String(count(t.cached)),
            [ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS]: String(thoughts),
          },
        ),
      );
      stats.llmCalls++;
    } else stats.noUsage++;
    for (const tc of Array.isArray(m.toolCalls) ? m.toolCalls : []) {
      if (!isObject(tc)) continue;
      const callId = str(tc.id);
      const name = str(tc.name);
      if (callId === '' || name === '') continue;
      const at = isoToNanos(tc.timestamp) ?? time;
      const result =
        tc.result === undefined || tc.result === null
          ? undefined
          : { text: toolResultText(tc.result), error: tc.status === 'error' };
      out.push(
        span(
          'gemini-cli',
          `${cur.s.session}|tool:${callId}`,
          `execute_tool ${name}`,
          false,
          at,
          at,
          {
            ...attrs(),
            ...toolAttributes(name, callId, tc.args, result, ctx),
          },
        ),
      );
      stats.toolCalls++;
    }
  }

  function flush(): void {
    for (const p of cur.pending.values()) emit(p.record);
    cur.pending.clear();
  }

  function bad(lineNo: number, reason: string): void {
    stats.malformed++;
    issues.push({ file, line: lineNo, reason });
  }

  function record(v: Record<string, unknown>, lineNo: number, offset: number): void {
    if (typeof v.sessionId === 'string' && typeof v.projectHash === 'string') {
      cur.s.subagent = v.kind === 'subagent';
      // A subagent's file sits in a folder named after its parent session: its work is the parent's.
      cur.s.session = cur.s.subagent ? basename(dirname(file)) : v.sessionId;
      if (Array.isArray(v.messages))
        for (const m of v.messages) if (isObject(m)) record(m, lineNo, offset);
      return;
    }
    if (typeof v.$rewindTo === 'string' || isObject(v.$set)) return;
    const id = str(v.id);
    if (id === '') {
      bad(lineNo, 'neither session metadata nor a message record (no id)');
      return;
    }
    if (v.type === 'user') {
      flush(); // the model's answers to the previous prompt are final
      return;
    }
    if (v.type !== 'gemini') return;
    const known = cur.pending.get(id);
    if (known) {
      known.record = v;
      stats.duplicates++;
    } else cur.pending.set(id, { record: v, at: { offset, line: lineNo - 1 } });
  }

  return {
    source: 'gemini-cli',
    stats,
    beginFile(name, saved) {
      file = name;
      const known = files.get(name);
      if (known) {
        cur = known;
        return;
      }
      const s: GeminiFileState = {
        session: basename(name).replace(/\.jsonl?$/, ''),
        subagent: false,
      };
      if (isObject(saved)) {
        s.session = str(saved.session) || s.session;
        s.subagent = saved.subagent === true;
      }
      cur = { s, pending: new Map() };
      files.set(name, cur);
    },
    line(text, lineNo, offset) {
      stats.lines++;
      const v = parseObjectLine(text, lineNo, bad);
      if (!v) return;
      record(v, lineNo, offset);
    },
    endFile(end, settled) {
      if (settled) {
        flush();
        return end;
      }
      let resume = end;
      for (const p of cur.pending.values()) resume = earlier(resume, p.at);
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
