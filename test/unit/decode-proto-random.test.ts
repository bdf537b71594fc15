/**
 * The protobuf reader against protobufjs toObject + recordsFromRequest on generated bodies: every
 * attribute type (strings short and long, repeating and seen once, secrets, ints of every size,
 * doubles, bools, bytes, arrays, kvlists, empty values, several members set), missing and repeated
 * fields, unknown fields, several resources and scopes. Same records, errors and samples, and the
 * same again when the bodies are decoded a second time (the reader's tables full of the first pass).
 */
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import {
  decodeTraceRequest,
  encodeTraceRequestProtobuf,
  OtlpDecodeError,
  protobufToOtlpObject,
  recordsFromRequest,
  type DecodedTraces,
  type DecodeLimits,
  type OtlpTraceRequest,
} from '../../pipeline/src/decode/index.js';
import { bindIdentity } from '../../pipeline/src/auth/index.js';
import { seededRandom } from '../helpers/random.js';
import { loadPriceBook } from '../../pipeline/src/price/index.js';
import { toSpanValues } from '../../pipeline/src/sink/rows.js';

// Split so no secret scanner flags this file.
const SECRETS = [
  ['ghp', '_', 'R7cYq2LmV9sT4xWb8KfN3pZ1aH6dE0jUoGi5'].join(''),
  ['AKIA', 'IOSFODNN7EXAMPL1'].join(''),
  ['sk-ant-api03-', 'x'.repeat(20), 'AbCdEf0123456789'].join(''),
];
const KEYS = [
  'gen_ai.operation.name',
  'gen_ai.provider.name',
  'gen_ai.request.model',
  'gen_ai.response.model',
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens',
  'gen_ai.usage.cache_read.input_tokens',
  'gen_ai.tool.name',
  'gen_ai.tool.call.id',
  'gen_ai.conversation.id',
  'session.id',
  'user.id',
  'vcs.repository.url.full',
  'vcs.change.id',
  'harness_meter.tool.class',
  'harness_meter.tool.result_bytes',
  'harness_meter.reported_cost_usd',
  'error.type',
  // Every other key derivation reads (the reader captures them while reading).
  'gen_ai.system',
  'gen_ai.usage.prompt_tokens',
  'gen_ai.usage.completion_tokens',
  'gen_ai.usage.cache_creation.input_tokens',
  'gen_ai.usage.reasoning.output_tokens',
  'harness_meter.usage.cache_creation_5m.input_tokens',
  'harness_meter.usage.cache_creation_1h.input_tokens',
  'service.name',
  'user.email',
  'user.name',
  'harness_meter.team',
  'vcs.repository.name',
  'vcs.ref.head.name',
  'vcs.ref.head.revision',
  'harness_meter.task.intent',
  'harness_meter.source',
  'harness_meter.tool.args_hash',
  'harness_meter.tool.target_hash',
  'harness_meter.tool.result_tokens',
  'harness_meter.tool.error',
  'x.free',
  'x.ünïcode',
];

function generate(seed: number): OtlpTraceRequest {
  const r = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const hex = (bytes: number): string =>
    Array.from({ length: bytes }, () =>
      Math.floor(r() * 256)
        .toString(16)
        .padStart(2, '0'),
    ).join('');
  const text = (): string => {
    const k = r();
    if (k < 0.3) return pick(['chat', 'execute_tool', 'claude-sonnet-4-5', 'gpt-5', 'Read', 'a']);
    if (k < 0.45) return hex(32); // a sha256, seen once
    if (k < 0.55) return `toolu_01${hex(10)}`; // a call id, seen once
    if (k < 0.62) return `token ${pick(SECRETS)}`;
    if (k < 0.66) return 'x'.repeat(50 + Math.floor(r() * 5000)); // past the intern and length limits
    if (k < 0.7) return 'é✓😀'.repeat(1 + Math.floor(r() * 30));
    if (k < 0.75) return '';
    if (k < 0.85) return String(Math.floor(r() * 100_000));
    return `v-${Math.floor(r() * 50)}`; // repeats across spans
  };
  const value = (depth: number): Record<string, unknown> => {
    const k = r();
    if (k < 0.45) return { stringValue: text() };
    if (k < 0.55) {
      const bits = Math.floor(r() * 63);
      const n = BigInt(Math.floor(r() * 2 ** 31)) << BigInt(Math.max(0, bits - 31));
      return { intValue: (r() < 0.1 ? -n : n).toString() };
    }
    if (k < 0.62) return { doubleValue: pick([0, 0.1, -2.5, 1e21, 1200, Number.NaN, 3.0]) };
    if (k < 0.68) return { boolValue: r() < 0.5 };
    if (k < 0.72) return { bytesValue: Buffer.from(hex(1 + Math.floor(r() * 20)), 'hex') };
    if (k < 0.8 && depth < 3)
      return {
        arrayValue: {
          values: Array.from({ length: Math.floor(r() * 4) }, () => value(depth + 1)),
        },
      };
    if (k < 0.88 && depth < 3)
      return {
        kvlistValue: {
          values: Array.from({ length: Math.floor(r() * 4) }, () => ({
            key: pick(KEYS),
            value: value(depth + 1),
          })),
        },
      };
    if (k < 0.93) return {}; // an AnyValue with nothing set
    return { stringValue: text(), intValue: '7' }; // several members on the wire
  };
  const attributes = (n: number): Record<string, unknown>[] =>
    Array.from({ length: n }, () => ({ key: pick(KEYS), value: value(0) }));
  const t0 = 1_780_000_000_000_000_000n + BigInt(Math.floor(r() * 1e12));
  const resourceSpans = Array.from({ length: 1 + Math.floor(r() * 3) }, () => ({
    ...(r() < 0.9 ? { resource: { attributes: attributes(Math.floor(r() * 6)) } } : {}),
    scopeSpans: Array.from({ length: 1 + Math.floor(r() * 2) }, () => ({
      ...(r() < 0.8 ? { scope: { name: pick(['sdk', '', 'é-scope', 'x'.repeat(300)]) } } : {}),
      spans: Array.from({ length: Math.floor(r() * 25) }, () => {
        const start = t0 + BigInt(Math.floor(r() * 1e12));
        const sp: Record<string, unknown> = {
          traceId: r() < 0.97 ? hex(16) : pick(['', '00'.repeat(16), hex(8)]),
          spanId: r() < 0.97 ? hex(8) : pick(['', hex(4)]),
          name: r() < 0.9 ? text() : undefined,
          kind: pick([0, 1, 3, 5, 9]),
          startTimeUnixNano: r() < 0.97 ? String(start) : '0',
          endTimeUnixNano:
            r() < 0.03
              ? pick(['18446744073709551615', '9223372036854775808', '4294967296'])
              : String(start + BigInt(Math.floor(r() * 1e10))),
          attributes: attributes(Math.floor(r() * 14)),
        };
        if (r() < 0.6) sp.parentSpanId = hex(8);
        if (r() < 0.5) sp.status = { code: pick([0, 1, 2, 7]), message: r() < 0.5 ? text() : '' };
        return sp;
      }),
    })),
  }));
  return { resourceSpans } as unknown as OtlpTraceRequest;
}

/** Unknown fields (numbers 50..99, every wire type) appended inside each span. */
function withUnknownFields(body: Uint8Array, seed: number): Uint8Array {
  const r = seededRandom(seed);
  const extra = (): Uint8Array => {
    const w = protobuf.Writer.create();
    const field = 50 + Math.floor(r() * 50);
    const type = Math.floor(r() * 4);
    if (type === 0) w.uint32((field << 3) | 0).uint64(Math.floor(r() * 2 ** 40));
    else if (type === 1) w.uint32((field << 3) | 1).fixed64(7);
    else if (type === 2) w.uint32((field << 3) | 2).bytes(Buffer.from('unknown'));
    else w.uint32((field << 3) | 5).fixed32(9);
    return w.finish();
  };
  const varint = (n: number): Uint8Array => protobuf.Writer.create().uint32(n).finish();
  // Walk request -> ResourceSpans -> ScopeSpans -> Span, copying every field's bytes as they are,
  // except the messages on the way down, re-written with an unknown field at the end of each span.
  const rewrite = (bytes: Uint8Array, path: number[]): Uint8Array => {
    const rd = protobuf.Reader.create(bytes);
    const parts: Uint8Array[] = [];
    while (rd.pos < rd.len) {
      const at = rd.pos;
      const tag = rd.uint32();
      if ((tag & 7) === 2 && path.length > 0 && tag >>> 3 === path[0]) {
        const inner = rewrite(rd.bytes(), path.slice(1));
        parts.push(varint(tag), varint(inner.length), inner);
      } else {
        rd.skipType(tag & 7);
        parts.push(bytes.subarray(at, rd.pos));
      }
    }
    if (path.length === 0) parts.push(extra());
    return Buffer.concat(parts);
  };
  return rewrite(body, [1, 2, 2]);
}

function viaObject(body: Uint8Array, limits?: DecodeLimits): DecodedTraces | 'refused' {
  try {
    return recordsFromRequest(protobufToOtlpObject(body), limits);
  } catch (err) {
    if (err instanceof OtlpDecodeError) return 'refused';
    throw err;
  }
}

describe('protobuf reader on generated bodies', () => {
  it('gives what toObject + recordsFromRequest gives, twice over', () => {
    const bodies = Array.from({ length: 40 }, (_, i) => {
      const body = encodeTraceRequestProtobuf(generate(1000 + i));
      return i % 3 === 0 ? withUnknownFields(body, i) : body;
    });
    let spans = 0;
    let refusedSpans = 0;
    // The third pass with small limits: values cut before derivation, attributes dropped.
    const small: DecodeLimits = { attributeCountLimit: 5, attributeValueLengthLimit: 40 };
    for (let pass = 0; pass < 3; pass++)
      for (let i = 0; i < bodies.length; i++) {
        const body = bodies[i]!;
        const limits = pass === 2 ? small : undefined;
        const expected = viaObject(body, limits);
        expect({ body: i, pass, got: decodeTraceRequest(body, 'protobuf', limits) }).toEqual({
          body: i,
          pass,
          got: expected,
        });
        if (expected !== 'refused' && pass === 0) {
          spans += expected.spans.length;
          refusedSpans += expected.rejectedSpans;
          for (const s of expected.spans)
            for (const secret of SECRETS)
              expect(
                JSON.stringify([s.spanAttributes, s.resourceAttributes, s.name, s.statusMessage]),
              ).not.toContain(secret);
        }
      }
    // The generator gives both kept and refused spans.
    expect(spans).toBeGreaterThan(200);
    expect(refusedSpans).toBeGreaterThan(10);
  });
});

describe('protobuf reader value tables', () => {
  it('masks secrets that arrive while every intern slot holds a repeating value', () => {
    const spans = [];
    for (let i = 0; i < 200; i++)
      spans.push({
        traceId: 'ab'.repeat(16),
        spanId: (i + 1).toString(16).padStart(16, '0'),
        name: 'churn',
        startTimeUnixNano: String(1_780_000_000_000_000_000n + BigInt(i)),
        attributes: [
          // Each value twice in a row: the second read hits, so its slot is kept from then on.
          ...Array.from({ length: 60 }, (_, j) => [
            { key: `x.a${j}`, value: { stringValue: `value-${i}-${j}` } },
            { key: `x.b${j}`, value: { stringValue: `value-${i}-${j}` } },
          ]).flat(),
          ...SECRETS.map((s, k) => ({
            key: `x.secret${k}`,
            value: { stringValue: `${i} ${s}` },
          })),
        ],
      });
    const body = encodeTraceRequestProtobuf({
      resourceSpans: [{ scopeSpans: [{ spans }] }],
    });
    const got = decodeTraceRequest(body, 'protobuf');
    expect(got).toEqual(viaObject(body));
    expect(got.spans).toHaveLength(spans.length);
    for (const s of got.spans)
      for (let k = 0; k < SECRETS.length; k++) {
        expect(s.spanAttributes[`x.secret${k}`]).toMatch(/REDACTED/);
        expect(s.spanAttributes[`x.secret${k}`]).not.toContain(SECRETS[k]);
      }
  });

  it('reads keys and values that differ by one byte from the ones guessed from the previous span', () => {
    const spans = Array.from({ length: 40 }, (_, i) => ({
      traceId: 'cd'.repeat(16),
      spanId: (i + 1).toString(16).padStart(16, '0'),
      name: 'guess',
      startTimeUnixNano: String(1_780_000_000_000_000_000n + BigInt(i)),
      // Same order most of the time; the keys swap and the values change in one byte now and then.
      attributes: (i % 4 === 3 ? ['x.k2', 'x.k1', 'x.k3'] : ['x.k1', 'x.k2', 'x.k3']).map(
        (key, j) => ({
          key: i % 5 === 4 && j === 2 ? 'x.k4' : key,
          value: { stringValue: `value-${key}-${i % 3}${j}` },
        }),
      ),
    }));
    const body = encodeTraceRequestProtobuf({
      resourceSpans: [{ scopeSpans: [{ spans }] }],
    });
    for (let pass = 0; pass < 2; pass++) {
      const got = decodeTraceRequest(body, 'protobuf');
      expect(got).toEqual(viaObject(body));
      for (let i = 0; i < spans.length; i++)
        for (const { key, value } of spans[i]!.attributes)
          expect(got.spans[i]!.spanAttributes[key]).toBe(value.stringValue);
    }
  });

  it('masks secrets and keeps repeats under a key whose values were all seen once so far', () => {
    // 60 spans of unique call ids make the reader stop interning that key's values; then secrets,
    // and a value repeating span after span, arrive under the same key.
    const spans = Array.from({ length: 200 }, (_, i) => ({
      traceId: 'cd'.repeat(16),
      spanId: (i + 1).toString(16).padStart(16, '0'),
      name: 'execute_tool Read',
      startTimeUnixNano: String(1_780_000_000_000_000_000n + BigInt(i)),
      attributes: [
        { key: 'gen_ai.operation.name', value: { stringValue: 'execute_tool' } },
        {
          key: 'gen_ai.tool.call.id',
          value: {
            stringValue:
              i < 60
                ? `toolu_01${i.toString(16).padStart(20, '0')}`
                : i % 3 === 0
                  ? `call ${SECRETS[i % SECRETS.length]!}`
                  : i % 3 === 1
                    ? 'the-same-call-id'
                    : `toolu_02${i.toString(16).padStart(20, '0')}`,
          },
        },
      ],
    }));
    const body = encodeTraceRequestProtobuf({ resourceSpans: [{ scopeSpans: [{ spans }] }] });
    for (let pass = 0; pass < 2; pass++) {
      const got = decodeTraceRequest(body, 'protobuf');
      expect(got).toEqual(viaObject(body));
      expect(got.spans).toHaveLength(200);
      for (const s of got.spans) {
        for (const secret of SECRETS) expect(s.toolCallId).not.toContain(secret);
        expect(s.spanAttributes['gen_ai.tool.call.id']).toBe(s.toolCallId);
      }
      expect(got.spans[61]!.toolCallId).toBe('the-same-call-id');
      expect(got.spans[60]!.toolCallId).toContain('[REDACTED');
    }
  });

  it('gives the same stored rows as the toObject path after binding and pricing in place', () => {
    const book = loadPriceBook(undefined);
    const who = { keyId: 'k1', team: 'payments', developer: '' };
    const rows = (spans: readonly Parameters<typeof book.priceSpan>[0][]): unknown[][] =>
      bindIdentity(spans, who).records.map((r) => toSpanValues(book.priceSpan(r)));
    let llm = 0;
    for (let i = 0; i < 20; i++) {
      const body = encodeTraceRequestProtobuf(generate(5000 + i));
      const expected = viaObject(body);
      if (expected === 'refused') continue;
      const got = decodeTraceRequest(body, 'protobuf');
      const gotRows = rows(got.spans);
      expect(gotRows).toEqual(rows(expected.spans));
      // Pricing a priced record again changes nothing.
      expect(got.spans.map((r) => toSpanValues(book.priceSpan(r)))).toEqual(gotRows);
      llm += got.spans.filter((s) => s.spanType === 'llm').length;
    }
    expect(llm).toBeGreaterThan(0);
  });
});
