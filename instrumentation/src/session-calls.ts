/**
 * What the SDK remembers of a session's tool calls for the redundancy rules: the calls as the rules
 * see them (from their span attributes), the content hash each file was last written whole with
 * (Write churn), and where a persistent shell's `cd` left it.
 */
import type { Attributes } from '@opentelemetry/api';
import type { CallClass, SessionCall } from './rules.js';
import type { Session } from './session.js';
import {
  ATTR_HM_TOOL_ARGS_HASH,
  ATTR_HM_TOOL_CLASS,
  ATTR_HM_TOOL_EDIT_AFTER_HASH,
  ATTR_HM_TOOL_EDIT_BEFORE_HASH,
  ATTR_HM_TOOL_MUTATES,
  ATTR_HM_TOOL_RANGE_END,
  ATTR_HM_TOOL_RANGE_START,
  ATTR_HM_TOOL_TARGET_HASH,
  ATTR_HM_TOOL_TARGET_HASHES,
  ATTR_HM_TOOL_TOUCHES,
} from './semconv.js';
import type { CallShape } from './tool-schemas.js';
import type { ToolFacts } from './tool-facts.js';

/** A monotonic nanosecond clock for ordering a session's calls in the SDK. */
let lastTick = 0n;
let lastMs = 0;
export function clock(): bigint {
  const ms = Date.now();
  // within the same millisecond only the increment: no BigInt product per call
  if (ms > lastMs) {
    const now = BigInt(ms) * 1_000_000n;
    if (now > lastTick) {
      lastMs = ms;
      lastTick = now;
      return now;
    }
  }
  lastTick += 1n;
  return lastTick;
}

const CALL_CLASSES: readonly string[] = ['read', 'write', 'search', 'exec', 'fetch', 'other'];

/**
 * A tool call as the redundancy rules see it, from its attributes. `lists`: the request's facts'
 * hash lists, the ones its attributes carry joined (shared, not split again per call).
 */
export function toSessionCall(
  request: { name: unknown },
  attrs: Attributes,
  id: string,
  lists?: Pick<ToolFacts, 'targetHashes' | 'touchHashes'>,
): SessionCall {
  const cls = String(attrs[ATTR_HM_TOOL_CLASS] ?? '');
  const call: SessionCall = {
    spanId: id,
    at: clock(),
    type: 'tool',
    toolName: String(request.name),
    toolClass: CALL_CLASSES.includes(cls) ? (cls as CallClass) : '',
    argsHash: String(attrs[ATTR_HM_TOOL_ARGS_HASH] ?? ''),
    targetHash: String(attrs[ATTR_HM_TOOL_TARGET_HASH] ?? ''),
  };
  const before = attrs[ATTR_HM_TOOL_EDIT_BEFORE_HASH];
  const after = attrs[ATTR_HM_TOOL_EDIT_AFTER_HASH];
  if (typeof before === 'string') call.beforeHash = before;
  if (typeof after === 'string') call.afterHash = after;
  const start = attrs[ATTR_HM_TOOL_RANGE_START];
  const end = attrs[ATTR_HM_TOOL_RANGE_END];
  if (typeof start === 'number') call.rangeStart = start;
  if (typeof end === 'number') call.rangeEnd = end;
  const more = attrs[ATTR_HM_TOOL_TARGET_HASHES];
  if (typeof more === 'string' && more)
    call.targetHashes = lists?.targetHashes.length ? lists.targetHashes : more.split(',');
  const mutates = attrs[ATTR_HM_TOOL_MUTATES];
  if (mutates === 'none' || mutates === 'paths' || mutates === 'all') call.mutates = mutates;
  const touches = attrs[ATTR_HM_TOOL_TOUCHES];
  if (typeof touches === 'string' && touches)
    call.touches = lists?.touchHashes.length ? lists.touchHashes : touches.split(',');
  return call;
}

export const PERSISTENT_SHELLS = new Set(['bash', 'run_terminal_cmd']);

/** Per session: where the agent's persistent shell is (a `cd` in one Bash call moves the next). */
export const shellCwds = new WeakMap<Session, string>();

/** Per session: the content hash each file was last written whole with (Write churn: v1 → v2 → v1). */
export const writtenContent = new WeakMap<Session, Map<string, string>>();

export function rememberContent(session: Session, facts: ToolFacts, attrs: Attributes): void {
  const shape = facts.shape;
  if (!shape) return;
  let files = writtenContent.get(session);
  if (!files) {
    files = new Map<string, string>();
    writtenContent.set(session, files);
  }
  const target = attrs[ATTR_HM_TOOL_TARGET_HASH];
  if (shape.cls === 'write' && typeof target === 'string') {
    const after = attrs[ATTR_HM_TOOL_EDIT_AFTER_HASH];
    if (shape.fullWrite && typeof after === 'string') files.set(target, after);
    else files.delete(target);
    for (const t of facts.targetHashes) files.delete(t);
  } else if (shape.mutates === 'paths') for (const t of facts.touchHashes) files.delete(t);
  else if (shape.mutates === 'all') files.clear();
}

/** Lines of a tool result (for reads that stop at a default limit). */
export function lineCount(text: string): number {
  if (text === '') return 0;
  let n = 1; // counted without splitting: a result can be megabytes
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return text.endsWith('\n') ? n - 1 : n;
}

/** A read that stops at a default limit: its range, knowing how many lines came back (fewer: the file ended). */
export function resolvedRange(
  shape: Pick<CallShape, 'range' | 'defaultLimit'> | undefined,
  lines: number | undefined,
): { start: number; end?: number } | undefined {
  if (!shape?.defaultLimit || !shape.range) return undefined;
  const { start, end } = shape.range;
  if (end !== undefined && lines !== undefined && lines < end - start + 1) return { start };
  return shape.range;
}
