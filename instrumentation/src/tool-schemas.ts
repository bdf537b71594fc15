/**
 * Per-tool argument schemas of the agents harness-meter knows (Claude Code, Codex, Cursor, Gemini
 * CLI, MCP servers, and common SDK harness names): which fields identify a call (free text such
 * as `description` or `explanation` is dropped), defaults filled in, paths resolved against the
 * session's working directory, ranges as 1-based inclusive lines, shell commands through the shell
 * model. Unknown tools return undefined: the caller keeps the generic normalization.
 */
import { writeTouches } from './scopes.js';
import { ALIASES, BOOKKEEPING, SCHEMAS } from './tool-schema-table.js';
import {
  identity,
  isObj,
  MCP_LOOKUP,
  type CallShape,
  type DescribeOptions,
} from './tool-shapes.js';

// Split by subject (issue 17 chores): the call shapes and their helpers in tool-shapes.ts, the
// per-tool table in tool-schema-table.ts; this module keeps the entry point and the public names.
export type { CallShape, DescribeOptions } from './tool-shapes.js';
export { DEFAULT_READ_LIMIT, resolvePath } from './tool-shapes.js';
export { parsePatch } from './patch.js';

/**
 * Describes a tool call from its name and arguments, or undefined for a tool this table does not
 * know (then the generic normalization applies, as before these schemas).
 */
export function describeToolCall(
  name: string,
  args: unknown,
  options: DescribeOptions = {},
): CallShape | undefined {
  const cwd = options.cwd ?? '';
  const lower = name.toLowerCase();
  const mcp = /^mcp__(.+?)__(.+)$/.exec(lower);
  const base = mcp ? (mcp[2] ?? '') : lower;
  if (BOOKKEEPING.has(base)) return { cls: 'other', key: { tool: lower, args: args ?? null } };
  if (!isObj(args)) return undefined;
  const schema = SCHEMAS[ALIASES[base] ?? base];
  if (schema) {
    const shape = schema(args, cwd, options, lower);
    if (shape?.cls === 'write' && shape.target !== undefined && !shape.touches) {
      const files = [shape.target, ...(shape.targets ?? [])];
      const touches = writeTouches(files, new Set(shape.mayCreate || shape.fullWrite ? files : []));
      if (touches) shape.touches = touches;
    }
    if (shape) return shape;
  }
  // MCP tools that only look things up: identical calls are repeats. Others: the generic path.
  if (mcp && MCP_LOOKUP.test(base)) return identity(lower, args);
  return undefined;
}
