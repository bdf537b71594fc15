/**
 * Search scopes as targets, and the scopes a write touches: a search, listing or query records what
 * its result depends on (`content:<dir>`, `names:<dir>`, `history:<repo>`, `env:`); a write names the
 * scopes it can change, so the rules keep the searches it cannot.
 */
import { posix } from 'node:path';

/**
 * Touched by every write whose files are known: a search whose scope is not known (its target is
 * this) is stale after any write. Its hash is `SCOPED_TOUCH` in rules.ts.
 */
export const ANY_CONTENT = 'content:*';

/**
 * A search's target: its scope, or `content:*` when the scope is a relative path (no working
 * directory known, as in the decode stage): writes name absolute paths, so only "any write" can be
 * matched against it.
 */
export function scopeTarget(scope: string | undefined): string {
  if (scope === undefined) return ANY_CONTENT;
  const m = /^(content|names):(.*)$/.exec(scope);
  return m && !(m[2] ?? '').startsWith('/') ? ANY_CONTENT : scope;
}

/** A path and its ancestors (`/r/src/a.ts`, `/r/src`, `/r`, `/`). */
function withAncestors(p: string): string[] {
  const out = [p];
  for (let d = p, up = posix.dirname(d); up !== d; d = up, up = posix.dirname(d)) out.push(up);
  return out;
}

/** One file's touched scopes, remembered by path (two generations of 256): an agent edits few files. */
let youngTouches = new Map<string, readonly string[] | undefined>();
let oldTouches = new Map<string, readonly string[] | undefined>();

/**
 * What a write of these files can change, as search scopes: the contents under each ancestor
 * directory and, for files it may create or delete, the names there. Searches of other scopes stay
 * current. Undefined when a path is relative with no working directory known (then: anything).
 * The list is shared between calls for the same file: read it, never change it.
 */
export function writeTouches(
  files: readonly string[],
  creates: ReadonlySet<string>,
): readonly string[] | undefined {
  if (files.length !== 1) return touchesOf(files, creates);
  // one file (nearly every edit): the same path gives the same scopes
  const file = files[0] ?? '';
  const key = (creates.has(file) ? '+' : '-') + file;
  if (youngTouches.has(key)) return youngTouches.get(key);
  const known = oldTouches.has(key) ? oldTouches.get(key) : touchesOf(files, creates);
  if (youngTouches.size >= 256) {
    oldTouches = youngTouches;
    youngTouches = new Map();
  }
  youngTouches.set(key, known);
  return known;
}

function touchesOf(
  files: readonly string[],
  creates: ReadonlySet<string>,
): readonly string[] | undefined {
  if (files.length === 0 || files.some((f) => !f.startsWith('/'))) return undefined;
  const out = new Set<string>([...files, ANY_CONTENT, 'content:.']);
  if (files.some((f) => creates.has(f))) out.add('names:.');
  for (const f of files)
    for (const a of withAncestors(f)) {
      out.add(`content:${a}`);
      if (creates.has(f)) out.add(`names:${a}`);
    }
  return [...out];
}
