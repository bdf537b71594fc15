/**
 * What a tool call's request puts on its span (class, args hash and size, target hash, range,
 * shell effect, edit hashes), computed once per distinct request and remembered while it is used.
 * Agents repeat their calls (the same files read, the same tests run), and describing, normalizing
 * and hashing a request was most of a tool call's cost (issue 17: ~12 µs of a Bash call, the shell
 * model about half of it). Only the parts that depend on the session's state (what it last wrote
 * to a file) are worked out per call. Hand-written rather than an npm cache: the SDK depends
 * on OpenTelemetry packages only.
 */
import type { Attributes } from '@opentelemetry/api';
import {
  canonicalJson,
  classifyTool,
  editHashes,
  inferTarget,
  normalizeArgs,
  normalizeTarget,
  readRange,
  sha256Hex,
} from './hashing.js';
import {
  ATTR_HM_TOOL_ARGS_BYTES,
  ATTR_HM_TOOL_ARGS_HASH,
  ATTR_HM_TOOL_MUTATES,
  ATTR_HM_TOOL_RANGE_END,
  ATTR_HM_TOOL_RANGE_START,
  ATTR_HM_TOOL_TARGET_HASH,
  ATTR_HM_TOOL_TARGET_HASHES,
  ATTR_HM_TOOL_TOUCHES,
} from './semconv.js';
import type { CallShape } from './tool-schemas.js';
import { keyText } from './tool-shapes.js';
import type { ToolRequest } from './tracer-types.js';

/** Names (paths, scopes, search targets) whose hashes are remembered: at most 256 UTF-16 units. */
const MAX_NAME = 256;
let youngNames = new Map<string, string>();
let oldNames = new Map<string, string>();

/**
 * SHA-256 of a path or scope, remembered across requests (two generations of 1,024): a new edit
 * of a file touches the same ~8 scopes as the last edit of it, each hash ~0.3 µs to compute.
 */
export function nameHash(text: string): string {
  if (text.length > MAX_NAME) return sha256Hex(text);
  let h = youngNames.get(text);
  if (h !== undefined) return h;
  h = oldNames.get(text) ?? sha256Hex(text);
  if (youngNames.size >= 1024) {
    oldNames = youngNames;
    youngNames = new Map();
  }
  youngNames.set(text, h);
  return h;
}

/**
 * The parts of a call's shape a call still needs after its facts are made (its range, what it
 * changes, where its shell ended). Not the whole shape: a remembered request would keep its key
 * and touched paths alive, and holding them measured about 1 µs more per new request (issue 17).
 */
export type ShapeFacts = Pick<
  CallShape,
  'cls' | 'range' | 'defaultLimit' | 'fullWrite' | 'mutates' | 'shellCwd'
>;

/** The parts of a shape a call still needs after its facts are made (see `ShapeFacts`). */
function shapeFacts(shape: CallShape): ShapeFacts {
  const out: ShapeFacts = { cls: shape.cls };
  if (shape.range) out.range = shape.range;
  if (shape.defaultLimit !== undefined) out.defaultLimit = shape.defaultLimit;
  if (shape.fullWrite !== undefined) out.fullWrite = shape.fullWrite;
  if (shape.mutates !== undefined) out.mutates = shape.mutates;
  if (shape.shellCwd !== undefined) out.shellCwd = shape.shellCwd;
  return out;
}

/** No further targets or touched scopes (one list for every call without them). */
const NO_HASHES: readonly string[] = Object.freeze([]);

/** Hashes of touched scopes by their list: writeTouches gives one file's edits the same list. */
const hashedTouches = new WeakMap<
  readonly string[],
  { hashes: readonly string[]; joined: string }
>();

function touchesHashed(touches: readonly string[]): { hashes: readonly string[]; joined: string } {
  let known = hashedTouches.get(touches);
  if (!known) {
    const hashes = touches.map(nameHash);
    known = { hashes, joined: hashes.join(',') };
    hashedTouches.set(touches, known);
  }
  return known;
}

/** What one distinct request gives every call that makes it (read only: shared between calls). */
export interface ToolFacts {
  readonly shape: ShapeFacts | undefined;
  /** The shape's class, else the name's; undefined when classifying failed. */
  readonly cls: string | undefined;
  /** From the args hash to the touched scopes, in the order the span gets them. */
  readonly attrs: Readonly<Attributes>;
  /** Content hashes of an edit. */
  readonly before: string | undefined;
  readonly after: string | undefined;
  /** A whole-file write with a target hash: its before-state is what the session last wrote there. */
  readonly fullWrite: boolean;
  /** Hashes of the shape's further targets and touched paths (what a write makes stale). */
  readonly targetHashes: readonly string[];
  readonly touchHashes: readonly string[];
}

/**
 * Works out a request's facts, as the span has always carried them. `report` hears every error;
 * the facts are then partial (as before), and `clean` is false: such facts are not remembered.
 */
export function toolFacts(
  request: ToolRequest,
  shape: CallShape | undefined,
  report: (e: unknown) => void,
): { facts: ToolFacts; clean: boolean } {
  let clean = true;
  const fail = (e: unknown): void => {
    clean = false;
    report(e);
  };
  let cls: string | undefined;
  try {
    cls = shape?.cls ?? classifyTool(String(request.name));
  } catch (e) {
    fail(e);
  }
  const attrs: Attributes = {};
  let argsText: string | undefined;
  let argsHash: string | undefined;
  try {
    if (request.args !== undefined) {
      const text = shape ? keyText(shape.key) : canonicalJson(normalizeArgs(request.args));
      argsHash = sha256Hex(text);
      argsText = text;
      attrs[ATTR_HM_TOOL_ARGS_HASH] = argsHash;
      attrs[ATTR_HM_TOOL_ARGS_BYTES] = Buffer.byteLength(text);
    }
  } catch (e) {
    fail(e);
  }
  try {
    const target =
      typeof request.target === 'string'
        ? normalizeTarget(request.target, request.args)
        : shape
          ? shape.target
          : inferTarget(request.args);
    // searches and fetches are identified by their whole key: the same text, hashed once
    if (target !== undefined)
      attrs[ATTR_HM_TOOL_TARGET_HASH] =
        target === argsText && argsHash !== undefined ? argsHash : nameHash(target);
  } catch (e) {
    fail(e);
  }
  let before: string | undefined;
  let after: string | undefined;
  let fullWrite = false;
  let targetHashes: readonly string[] = NO_HASHES;
  let touchHashes: readonly string[] = NO_HASHES;
  try {
    if (shape) {
      if (shape.range && !shape.defaultLimit) {
        attrs[ATTR_HM_TOOL_RANGE_START] = shape.range.start;
        if (shape.range.end !== undefined) attrs[ATTR_HM_TOOL_RANGE_END] = shape.range.end;
      }
      if (shape.targets?.length) {
        targetHashes = shape.targets.map(nameHash);
        attrs[ATTR_HM_TOOL_TARGET_HASHES] = targetHashes.join(',');
      }
      if (shape.mutates) attrs[ATTR_HM_TOOL_MUTATES] = shape.mutates;
      if (shape.touches?.length) {
        const touched = touchesHashed(shape.touches);
        touchHashes = touched.hashes;
        attrs[ATTR_HM_TOOL_TOUCHES] = touched.joined;
      }
      before = shape.edit?.before;
      after = shape.edit?.after;
      fullWrite = shape.fullWrite === true && typeof attrs[ATTR_HM_TOOL_TARGET_HASH] === 'string';
    } else {
      const range = readRange(request.args);
      if (range) {
        attrs[ATTR_HM_TOOL_RANGE_START] = range.start;
        if (range.end !== undefined) attrs[ATTR_HM_TOOL_RANGE_END] = range.end;
      }
      const edit = editHashes(request.args);
      before = edit?.before;
      after = edit?.after;
    }
  } catch (e) {
    fail(e);
  }
  return {
    facts: {
      shape: shape && shapeFacts(shape),
      cls,
      attrs,
      before,
      after,
      fullWrite,
      targetHashes,
      touchHashes,
    },
    clean,
  };
}

/** The longest text a remembered request holds (UTF-16 units): long contents are seldom repeated. */
const MAX_KEY = 1024;

/**
 * A text that tells plain JSON data apart exactly (strings, finite numbers, booleans, null, dense
 * arrays and plain objects, keys in their order), or undefined: anything else (undefined,
 * functions, class instances such as Date, NaN, -0, sparse arrays, deep nesting), on which
 * JSON.stringify would give different values one text, or longer than `MAX_KEY`.
 */
export function plainKey(v: unknown): string | undefined {
  if (!isPlain(v, 0)) return undefined;
  const s = JSON.stringify(v);
  return s.length <= MAX_KEY ? s : undefined;
}

function isPlain(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string':
      return v.length <= MAX_KEY;
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0);
    case 'boolean':
      return true;
    case 'object': {
      if (v === null) return true;
      if (depth >= 8) return false;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (!(i in v) || !isPlain(v[i], depth + 1)) return false;
        return true;
      }
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return false;
      // for-in also visits inherited enumerable keys: stricter than JSON, never looser
      for (const k in v) if (!isPlain((v as Record<string, unknown>)[k], depth + 1)) return false;
      return true;
    }
    default:
      return false;
  }
}

// Markers in a request's path (objects: never equal to a string, number, boolean or null).
const NONE = { none: true };
const FIELDS = { fields: true };
const JSON_VALUE = { json: true };
const END = { end: true };

/**
 * What a request's facts depend on besides the tracer's own options, as a path of values: the
 * tool's name, the directories paths resolve against, a named target, then the arguments (an
 * object: each key and value in order, nested values as their JSON; else the arguments' JSON).
 * Equal paths (SameValueZero, part by part) come only from equal requests. A path, not one text:
 * serializing fresh arguments into a key cost about 1 µs a call; looking their values up costs
 * about a sixth of that. Undefined: not remembered (not plain JSON, or longer than 2 × `MAX_KEY`).
 */
export function requestPath(
  request: ToolRequest,
  cwd: string | undefined,
  shellCwd: string | undefined,
): unknown[] | undefined {
  const target = typeof request.target === 'string' ? request.target : NONE;
  const path: unknown[] = [String(request.name), cwd ?? '', shellCwd ?? NONE, target];
  let size = 0;
  const args = request.args;
  if (args === undefined) path.push(NONE);
  else if (typeof args === 'object' && args !== null && !Array.isArray(args)) {
    const proto: unknown = Object.getPrototypeOf(args);
    if (proto !== Object.prototype && proto !== null) return undefined;
    path.push(FIELDS);
    for (const k in args) {
      const v = (args as Record<string, unknown>)[k];
      path.push(k);
      size += k.length;
      if (typeof v === 'object' && v !== null) {
        const json = plainKey(v);
        if (json === undefined) return undefined;
        path.push(JSON_VALUE, json);
        size += json.length;
      } else {
        if (!isPlain(v, 1)) return undefined;
        path.push(v);
        if (typeof v === 'string') size += v.length;
      }
      if (size > 2 * MAX_KEY) return undefined;
    }
  } else {
    const json = plainKey(args);
    if (json === undefined) return undefined;
    path.push(JSON_VALUE, json);
  }
  path.push(END);
  return path;
}

/**
 * The end of a path below a node: the parts still to match (`rest` from `from`) and the value.
 * A path is stored as Maps only as deep as another path shares it, then as one leaf (a new request
 * made a Map per remaining part; issue 17: allocating them was most of a miss's cost).
 */
class Leaf {
  constructor(
    readonly rest: readonly unknown[],
    readonly from: number,
    public value: unknown,
  ) {}

  /** Does `path` from `at` equal this leaf's remaining parts (SameValueZero, as Map keys)? */
  matches(path: readonly unknown[], at: number): boolean {
    const rest = this.rest;
    if (path.length - at !== rest.length - this.from) return false;
    for (let i = at, j = this.from; i < path.length; i++, j++) {
      const a = path[i];
      const b = rest[j];
      if (a !== b && (a === a || b === b)) return false;
    }
    return true;
  }
}

type Node = Map<unknown, Node | Leaf>;

/**
 * A bounded map from paths to values that keeps what was used recently: two generations (tries
 * of Maps), the young one filled by new and re-used entries; when it holds `max / 2` entries it
 * becomes the old one and the previous old one is dropped. An entry used within the last
 * `max / 2` insertions is kept; one unused for `max` is forgotten. Cheaper than an exact LRU's
 * delete and re-insert on every hit (measured: most of a lookup). No path may be a prefix of
 * another (requestPath ends every path with the same marker).
 */
export class RecentCache<V> {
  private young: Node = new Map();
  private old: Node = new Map();
  private youngSize = 0;
  private oldSize = 0;
  private readonly half: number;

  constructor(max: number) {
    this.half = Math.max(1, Math.floor(max / 2));
  }

  get(path: readonly unknown[]): V | undefined {
    const v = find(this.young, path);
    if (v !== undefined) return v.value as V;
    const o = find(this.old, path);
    if (o !== undefined) this.set(path, o.value as V);
    return o?.value as V | undefined;
  }

  /** One walk: replaces a path the young generation holds, else adds it (a full one turns old first). */
  set(path: readonly unknown[], value: V): void {
    let node = this.young;
    for (let i = 0; i < path.length; i++) {
      const part = path[i];
      const child = node.get(part);
      if (child === undefined) {
        if (this.youngSize >= this.half) {
          // a new path and a full young generation: it becomes the old one (a leaf split on the
          // way down left its entries as they were)
          this.old = this.young;
          this.oldSize = this.youngSize;
          this.young = new Map();
          this.youngSize = 0;
          this.young.set(path[0], new Leaf(path, 1, value));
        } else node.set(part, new Leaf(path, i + 1, value));
        this.youngSize++;
        return;
      }
      if (child instanceof Leaf) {
        if (child.matches(path, i + 1)) {
          child.value = value;
          return;
        }
        // another path shares this part: the leaf moves one level down
        const inner: Node = new Map();
        inner.set(child.rest[child.from], new Leaf(child.rest, child.from + 1, child.value));
        node.set(part, inner);
        node = inner;
      } else node = child;
    }
  }

  /** Entries held (an entry in both generations counts twice). */
  get size(): number {
    return this.youngSize + this.oldSize;
  }
}

function find(root: Node, path: readonly unknown[]): Leaf | undefined {
  let node = root;
  for (let i = 0; i < path.length; i++) {
    const child = node.get(path[i]);
    if (child === undefined) return undefined;
    if (child instanceof Leaf) return child.matches(path, i + 1) ? child : undefined;
    node = child;
  }
  return undefined;
}
