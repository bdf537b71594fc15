/**
 * Reads a protobuf ExportTraceServiceRequest straight into span records: a hand-written walk over
 * protobufjs' Reader (the wire format, field numbers from pipeline/proto/opentelemetry/proto), with
 * no intermediate message objects and no OTLP/JSON object per span. Each span's fields go to the
 * same TraceCollector as OTLP/JSON, so both encodings give identical records.
 *
 * Written by hand rather than generated (pbjs static code) because the generated decoder builds the
 * message objects this module exists to avoid; it follows protobufjs' generated decoders where the
 * wire allows choices (a field is read by its number as its declared type; the last of a repeated
 * singular field wins; unknown fields are skipped), and leaves the rare shapes (array and kvlist
 * values, an AnyValue with several members set) to protobufjs itself, so they render exactly as before.
 */
import protobuf from 'protobufjs';
import { renderValue } from './attributes.js';
import { DERIVED_COUNT, derivedIndex } from './span-record.js';
import { redactedOnce, redactedText } from './validate.js';
import { OtlpDecodeError } from './errors.js';
import type { OtlpSpan } from './otlp-object.js';
import { otlpType } from './proto.js';
import type { DecodedTraces, ResourceContext, TraceCollector } from './traces.js';

const SPAN_TYPE = 'opentelemetry.proto.trace.v1.Span';
const ANY_VALUE_TYPE = 'opentelemetry.proto.common.v1.AnyValue';
const TO_OBJECT = { longs: String, bytes: String, enums: Number, defaults: false, arrays: true };

/** A byte range of the body: [start, end). */
type Range = [number, number];

function asBuffer(body: Uint8Array): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

/** The length-delimited field at the reader's position: its range, the reader moved past it. */
function skipDelimited(r: protobuf.Reader): Range {
  const len = r.uint32();
  const start = r.pos;
  const end = start + len;
  if (end > r.len) throw new RangeError(`index out of range: ${start} + ${len} > ${r.len}`);
  r.pos = end;
  return [start, end];
}

/** An int64 as protobufjs gives it (a number, or a Long), as decimal text. */
function int64Text(v: unknown): string {
  if (typeof v === 'number') return String(v);
  const l = v as { high: number; low: number; toString(): string };
  return l.high === 0 && l.low >= 0 ? String(l.low) : l.toString();
}

/**
 * How readValue's last result may be stored: PLAIN (bool, int), an intern slot, UNKEPT (a short
 * string not interned: redact it without the memo), or -1 (redact).
 */
const PLAIN = -2;
const UNKEPT = -3;
let valueSlot = -1;

/**
 * One AnyValue (the reader at its first byte, `end` its end) as the stored string. Exactly one
 * scalar member is read here; anything else is decoded by protobufjs and rendered as before.
 */
function readValue(r: protobuf.Reader, buf: Buffer, end: number): string {
  const start = r.pos;
  let members = 0;
  let text = '';
  let slot = -1;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        text = readText(r, buf);
        slot = lastUnkept ? UNKEPT : lastSlot;
        members |= 1;
        break;
      case 2:
        text = r.bool() ? 'true' : 'false';
        members |= 2;
        break;
      case 3:
        text = int64Text(r.int64());
        members |= 4;
        break;
      case 4:
        text = String(r.double());
        members |= 8;
        break;
      case 7: {
        const [from, to] = skipDelimited(r);
        text = buf.toString('base64', from, to);
        members |= 64;
        break;
      }
      case 5:
      case 6:
        r.skipType(tag & 7);
        members |= 128; // nested: left to protobufjs
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  valueSlot = members === 1 ? slot : members === 2 || members === 4 ? PLAIN : -1;
  if (members === 0) return '';
  if ((members & (members - 1)) === 0 && members !== 128) return text;
  const type = otlpType(ANY_VALUE_TYPE);
  return renderValue(type.toObject(type.decode(buf.subarray(start, end)), TO_OBJECT));
}

/**
 * Short strings by their bytes: attribute keys and most values repeat from span to span (session,
 * developer, repository, model names), so a repeat returns the string made the first time instead of
 * decoding UTF-8 and allocating again, and later Map lookups on it reuse its cached hash. A
 * direct-mapped table (bytesHash). Values seen once (ids, hashes, call ids: a few per span)
 * must not evict the ones that repeat: a slot that was hit keeps its string through up to
 * INTERN_KEEP colliding misses (each spends one), and only then is replaced. Bounded: INTERN_SLOTS
 * strings of at most INTERN_MAX_BYTES bytes.
 */
const INTERN_MAX_BYTES = 64;
const INTERN_SLOTS = 8192;
const INTERN_KEEP = 3;
const internKeep = new Uint8Array(INTERN_SLOTS);
const internBytes = new Uint8Array(INTERN_SLOTS * INTERN_MAX_BYTES);
const internLengths = new Int32Array(INTERN_SLOTS).fill(-1);
const internStrings: string[] = new Array<string>(INTERN_SLOTS).fill('');
/** The stored (redacted) form of each slot's string as an attribute value, made on first use. */
const internStored: (string | undefined)[] = new Array<string | undefined>(INTERN_SLOTS).fill(
  undefined,
);
/** For each slot's string as an attribute key, its derivedIndex; UNSEEN until first asked. */
const UNSEEN = -2;
const internDerived = new Int8Array(INTERN_SLOTS).fill(UNSEEN);
/** The span being read: its values of the keys derivation reads (derivedValues, captured). */
const spanDerived = new Array<string>(DERIVED_COUNT).fill('');
/**
 * For each key's slot, how many of its values in a row were not found in the table (ids, hashes,
 * call ids: seen once). From FRESH_RUN on, that key's values skip the table (no hash, no compare,
 * no slot taken from a value that repeats); every FRESH_PROBE-th one still tries it, and a hit
 * starts the count again.
 */
const keyFreshRun = new Uint8Array(INTERN_SLOTS);
const FRESH_RUN = 16;
const FRESH_PROBE = 16;
let freshSkips = 0;
/** The next readText call decodes without the intern table. */
let skipIntern = false;
/** The last internedText call found its string in the table. */
let lastHit = false;
/** The slot of the last string readText returned, -1 when it was not interned. */
let lastSlot = -1;
/** The last string readText returned was short but not interned (its slot holds a repeating one). */
let lastUnkept = false;

/**
 * Attributes come in the same order span after span, each key mostly with the value it had last
 * time: the slot the next internedText call tries first, by compare alone (no hash), is the key
 * that followed the previous key last time, or the value this key had last time. -1: none. Each
 * call consumes it; a wrong guess costs one compare and falls through to the hash.
 */
let hint = -1;
/** For each key's slot, the slot of the key read after it last time. */
const nextKeySlot = new Int32Array(INTERN_SLOTS).fill(-1);
/** For each key's slot, the slot of the value it had last time. */
const lastValueSlot = new Int32Array(INTERN_SLOTS).fill(-1);
/** The longest attribute value readKeyValue stored since it was last reset (per span). */
let longestValue = 0;
/** The slot of the key read last in this attribute list (-1 at its start). */
let previousKey = -1;

/**
 * A hash of the bytes for the intern table: four bytes per multiply (FNV-style over little-endian
 * words, the tail byte by byte), then murmur3's finalizer so the low bits the table uses depend on
 * every byte. The table compares the bytes on a hit, so the hash only has to spread.
 */
function bytesHash(buf: Buffer, start: number, end: number): number {
  let h = 0x811c9dc5 ^ (end - start);
  let i = start;
  for (const last = end - 3; i < last; i += 4)
    h = Math.imul(
      h ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24)),
      0x01000193,
    );
  for (; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function internedText(buf: Buffer, start: number, end: number): string {
  const len = end - start;
  const guess = hint;
  hint = -1;
  if (guess >= 0 && internLengths[guess] === len) {
    const base = guess * INTERN_MAX_BYTES;
    let i = 0;
    while (i < len && internBytes[base + i] === buf[start + i]) i++;
    if (i === len) {
      internKeep[guess] = INTERN_KEEP;
      lastSlot = guess;
      lastHit = true;
      return internStrings[guess]!;
    }
  }
  const slot = bytesHash(buf, start, end) & (INTERN_SLOTS - 1);
  const base = slot * INTERN_MAX_BYTES;
  if (internLengths[slot] === len) {
    let i = 0;
    while (i < len && internBytes[base + i] === buf[start + i]) i++;
    if (i === len) {
      internKeep[slot] = INTERN_KEEP;
      lastSlot = slot;
      lastHit = true;
      return internStrings[slot]!;
    }
  }
  const text = buf.toString('utf8', start, end);
  if (internKeep[slot]! > 0) {
    // A string that repeats holds the slot: this one (likely seen once) is not kept.
    internKeep[slot]!--;
    lastSlot = -1;
    lastUnkept = true;
    return text;
  }
  for (let i = 0; i < len; i++) internBytes[base + i] = buf[start + i]!;
  internLengths[slot] = len;
  internStrings[slot] = text;
  internStored[slot] = undefined;
  internDerived[slot] = UNSEEN;
  keyFreshRun[slot] = 0;
  lastSlot = slot;
  return text;
}

/** A string field (the reader at its length prefix), decoded as protobufjs' BufferReader does. */
function readText(r: protobuf.Reader, buf: Buffer): string {
  const len = r.uint32();
  const start = r.pos;
  const end = start + len;
  if (end > r.len) throw new RangeError(`index out of range: ${start} + ${len} > ${r.len}`);
  r.pos = end;
  lastUnkept = false;
  lastHit = false;
  if (skipIntern) {
    // Likely seen once: decoded as it is, redacted without the memo (as a value not kept).
    lastSlot = -1;
    lastUnkept = true;
    return buf.toString('utf8', start, end);
  }
  if (len <= INTERN_MAX_BYTES) return internedText(buf, start, end);
  lastSlot = -1;
  return buf.toString('utf8', start, end);
}

/** The text readText just returned in its stored form (redacted, not cut), memoized per slot. */
function storedForm(text: string): string {
  if (lastSlot >= 0) return (internStored[lastSlot] ??= redactedText(text));
  return lastUnkept ? redactedOnce(text) : redactedText(text);
}

/** Enters the length-delimited field at the reader's position: returns its end. */
function enter(r: protobuf.Reader): number {
  const len = r.uint32();
  const end = r.pos + len;
  if (end > r.len) throw new RangeError(`index out of range: ${r.pos} + ${len} > ${r.len}`);
  return end;
}

/**
 * One KeyValue into `out` (the last of repeated keys wins, as attributeMap does). With `redacted`,
 * the value goes in its stored form (redactedText), memoized per intern slot.
 */
function readKeyValue(
  r: protobuf.Reader,
  buf: Buffer,
  out: Record<string, string>,
  redacted: boolean,
): void {
  const end = enter(r);
  let key: string | undefined;
  let keySlot = -1;
  let value = '';
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        if (previousKey >= 0) hint = nextKeySlot[previousKey]!;
        key = readText(r, buf);
        hint = -1; // unused when the key was too long to intern
        keySlot = lastSlot;
        if (keySlot >= 0 && previousKey >= 0) nextKeySlot[previousKey] = keySlot;
        break;
      case 2:
        if (keySlot >= 0) {
          hint = lastValueSlot[keySlot]!;
          if (keyFreshRun[keySlot]! >= FRESH_RUN && ++freshSkips % FRESH_PROBE !== 0)
            skipIntern = true;
        }
        lastHit = false;
        value = readValue(r, buf, enter(r));
        hint = -1;
        if (keySlot >= 0) {
          if (valueSlot >= 0) lastValueSlot[keySlot] = valueSlot;
          if (!skipIntern) {
            if (lastHit) keyFreshRun[keySlot] = 0;
            else if (keyFreshRun[keySlot]! < 255) keyFreshRun[keySlot]!++;
          }
        }
        skipIntern = false;
        if (redacted && valueSlot !== PLAIN) {
          if (valueSlot >= 0) value = internStored[valueSlot] ??= redactedText(value);
          else if (valueSlot === UNKEPT) value = redactedOnce(value);
          else value = redactedText(value);
        }
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  r.pos = end;
  previousKey = keySlot;
  if (key !== undefined) {
    out[key] = value;
    if (redacted) {
      // A span attribute: derivation's keys are captured here, not looked up in the map again.
      let d: number;
      if (keySlot >= 0) {
        d = internDerived[keySlot]!;
        if (d === UNSEEN) internDerived[keySlot] = d = derivedIndex(key);
      } else d = derivedIndex(key);
      if (d >= 0) spanDerived[d] = value;
    }
    if (value.length > longestValue) longestValue = value.length;
  }
}

/** A message holding attributes in field `field` (Resource: 1): its attribute map. */
function readAttributesOf(r: protobuf.Reader, buf: Buffer, field: number): Record<string, string> {
  const end = enter(r);
  const out: Record<string, string> = {};
  previousKey = -1;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === field && (tag & 7) === 2) readKeyValue(r, buf, out, false);
    else r.skipType(tag & 7);
  }
  r.pos = end;
  return out;
}

/** Eight bytes seen as one unsigned 64-bit integer (little-endian on every platform Node runs on). */
const fixed64Bytes = new Uint8Array(8);
const fixed64Word = new BigUint64Array(fixed64Bytes.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * fixed64 as an unsigned bigint: the bytes copied into a BigUint64Array and read as one bigint, which
 * allocates one bigint instead of three (a shift and an or of two halves) and is 3-5x faster.
 */
function fixed64(r: protobuf.Reader, buf: Buffer): bigint {
  const pos = r.pos;
  if (pos + 8 > r.len) throw new RangeError(`index out of range: ${pos} + 8 > ${r.len}`);
  r.pos = pos + 8;
  if (!LITTLE_ENDIAN) return buf.readBigUInt64LE(pos);
  const b = fixed64Bytes;
  b[0] = buf[pos]!;
  b[1] = buf[pos + 1]!;
  b[2] = buf[pos + 2]!;
  b[3] = buf[pos + 3]!;
  b[4] = buf[pos + 4]!;
  b[5] = buf[pos + 5]!;
  b[6] = buf[pos + 6]!;
  b[7] = buf[pos + 7]!;
  return fixed64Word[0]!;
}

/** InstrumentationScope: its name, when present. */
function readScopeName(r: protobuf.Reader): string | undefined {
  const end = enter(r);
  let name: string | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) name = r.string();
    else r.skipType(tag & 7);
  }
  r.pos = end;
  return name;
}

/** The span at `range` as OTLP/JSON (protobufjs), for the sample of a refused span. */
function spanObject(buf: Buffer, range: Range): OtlpSpan {
  const type = otlpType(SPAN_TYPE);
  const sp = type.toObject(type.decode(buf.subarray(range[0], range[1])), TO_OBJECT) as OtlpSpan;
  const hex = (b64: string): string => Buffer.from(b64, 'base64').toString('hex');
  if (typeof sp.traceId === 'string') sp.traceId = hex(sp.traceId);
  if (typeof sp.spanId === 'string') sp.spanId = hex(sp.spanId);
  if (typeof sp.parentSpanId === 'string') sp.parentSpanId = hex(sp.parentSpanId);
  return sp;
}

/** One Span (the reader at its length prefix) into the collector. */
function readSpan(
  r: protobuf.Reader,
  buf: Buffer,
  out: TraceCollector,
  resource: ResourceContext,
  scopeName: string,
  where: string,
): void {
  const end = enter(r);
  const range: Range = [r.pos, end];
  previousKey = -1;
  longestValue = 0;
  spanDerived.fill('');
  let traceId: string | undefined;
  let spanId: string | undefined;
  let parentSpanId: string | undefined;
  let name: string | undefined;
  let kind = 0;
  let start = 0n;
  let finish = 0n;
  let attributes: Record<string, string> | undefined;
  let statusCode = 0;
  let statusMessage: string | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1: {
        const [from, to] = skipDelimited(r);
        traceId = buf.toString('hex', from, to);
        break;
      }
      case 2: {
        const [from, to] = skipDelimited(r);
        spanId = buf.toString('hex', from, to);
        break;
      }
      case 4: {
        const [from, to] = skipDelimited(r);
        parentSpanId = buf.toString('hex', from, to);
        break;
      }
      case 5:
        name = storedForm(readText(r, buf));
        break;
      case 6:
        kind = r.int32();
        break;
      case 7:
        start = fixed64(r, buf);
        break;
      case 8:
        finish = fixed64(r, buf);
        break;
      case 9:
        attributes ??= {};
        readKeyValue(r, buf, attributes, true);
        break;
      case 15: {
        // Status: message (2), code (3). The last Status wins whole, as protobufjs decodes it.
        const statusEnd = enter(r);
        statusCode = 0;
        statusMessage = undefined;
        while (r.pos < statusEnd) {
          const t = r.uint32();
          if (t >>> 3 === 2) statusMessage = storedForm(readText(r, buf));
          else if (t >>> 3 === 3) statusCode = r.int32();
          else r.skipType(t & 7);
        }
        r.pos = statusEnd;
        break;
      }
      default:
        r.skipType(tag & 7);
    }
  }
  r.pos = end;
  out.add(
    {
      traceId,
      spanId,
      parentSpanId,
      name,
      kind,
      startTimeUnixNano: start,
      endTimeUnixNano: finish,
      attributes: attributes ?? {},
      attributesRedacted: true,
      textRedacted: true,
      attributesLongest: longestValue,
      derived: spanDerived,
      statusCode,
      statusMessage,
      idsLowerHex: true,
    },
    resource,
    scopeName,
    where,
    () => spanObject(buf, range),
  );
}

/** One ScopeSpans: the scope first (wherever it sits in the bytes), then its spans in order. */
function readScopeSpans(
  r: protobuf.Reader,
  buf: Buffer,
  out: TraceCollector,
  resource: ResourceContext,
  where: string,
): void {
  const end = enter(r);
  const spans: number[] = [];
  let scopeName: string | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === 1) scopeName = readScopeName(r);
    else if (field === 2) {
      spans.push(r.pos);
      skipDelimited(r);
    } else r.skipType(tag & 7);
  }
  const stored = out.scopeName(scopeName);
  for (let k = 0; k < spans.length; k++) {
    r.pos = spans[k]!;
    readSpan(r, buf, out, resource, stored, `${where}.spans[${k}]`);
  }
  r.pos = end;
}

/** One ResourceSpans: the resource first (wherever it sits in the bytes), then its scopes. */
function readResourceSpans(r: protobuf.Reader, buf: Buffer, out: TraceCollector, i: number): void {
  const end = enter(r);
  const scopes: number[] = [];
  let attributes: Record<string, string> | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === 1) attributes = readAttributesOf(r, buf, 1);
    else if (field === 2) {
      scopes.push(r.pos);
      skipDelimited(r);
    } else r.skipType(tag & 7);
  }
  const resource = out.resource(attributes ?? {});
  for (let j = 0; j < scopes.length; j++) {
    r.pos = scopes[j]!;
    readScopeSpans(r, buf, out, resource, `resourceSpans[${i}].scopeSpans[${j}]`);
  }
  r.pos = end;
}

/**
 * Decodes a serialized ExportTraceServiceRequest into `out` and returns its result.
 * Throws OtlpDecodeError when the bytes are not such a message (nothing is kept then).
 */
export function readTraceRequest(body: Uint8Array, out: TraceCollector): DecodedTraces {
  const buf = asBuffer(body);
  const r = protobuf.Reader.create(buf);
  // The message structure is read in full before any span: a truncated body fails as a whole.
  const resources: number[] = [];
  try {
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag >>> 3 === 1) {
        resources.push(r.pos);
        skipDelimited(r);
      } else r.skipType(tag & 7);
    }
    for (let i = 0; i < resources.length; i++) {
      r.pos = resources[i]!;
      readResourceSpans(r, buf, out, i);
    }
  } catch (err) {
    throw new OtlpDecodeError(
      `The body is not a valid protobuf ExportTraceServiceRequest (${body.byteLength} bytes): ${err instanceof Error ? err.message : String(err)}.`,
      { cause: err },
    );
  }
  return out.result();
}
