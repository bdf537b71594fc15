import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decodeTraceRequest,
  encodeTraceRequestProtobuf,
  OtlpDecodeError,
  type OtlpTraceRequest,
} from '../../pipeline/src/decode/index.js';

const fixtureText = readFileSync(new URL('../fixtures/otlp/session.json', import.meta.url), 'utf8');
const fixture = JSON.parse(fixtureText) as OtlpTraceRequest;
const json = (v: unknown): Uint8Array => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('OTLP trace decoding', () => {
  const fromJson = decodeTraceRequest(json(fixtureText), 'json');
  const fromProto = decodeTraceRequest(encodeTraceRequestProtobuf(fixture), 'protobuf');

  it('decodes JSON and protobuf of the same spans to the same records', () => {
    expect(fromJson.spans).toHaveLength(6);
    expect(fromJson.rejectedSpans).toBe(0);
    expect(fromProto.spans).toEqual(fromJson.spans);
    expect(fromProto.errors).toEqual(fromJson.errors);
  });

  it('derives the LLM call: provider, models, usage with the 5m/1h split, reported cost, session context', () => {
    const llm = fromJson.spans[1];
    expect(llm).toMatchObject({
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b175',
      parentSpanId: 'eee19b7ec3c1b174',
      kind: 3,
      startTimeUnixNano: 1763974800100000000n,
      endTimeUnixNano: 1763974803100000000n,
      spanType: 'llm',
      provider: 'anthropic',
      requestModel: 'claude-sonnet-4-5',
      responseModel: 'claude-sonnet-4-5-20250929',
      sessionId: 'sess-1',
      developer: 'ana',
      team: 'payments',
      repo: 'https://github.com/acme/payments-api',
      branch: 'fix/refund-rounding', // span attribute wins over the resource's 'main'
      pr: 101,
      source: 'sdk',
      serviceName: 'acme-harness',
      scopeName: '@harness-meter/instrumentation',
      inputTokens: 10200,
      outputTokens: 350,
      cacheReadTokens: 8000,
      cacheWriteTokens: 1000,
      cacheWrite5mTokens: 600,
      cacheWrite1hTokens: 400,
      reportedCostNanos: 12345679n, // 0.0123456789 USD, half up at the 10th decimal
    });
  });

  it('accepts deprecated names (gen_ai.system, prompt/completion tokens) and keeps other attributes as strings', () => {
    const openai = fromJson.spans[3];
    expect(openai).toMatchObject({
      spanType: 'llm',
      provider: 'openai',
      inputTokens: 5000,
      outputTokens: 400,
      cacheReadTokens: 4000,
      cacheWriteTokens: 0,
      branch: 'main',
      pr: 0,
    });
    expect(openai?.spanAttributes.temperature).toBe('0.2');
    const res = fromJson.spans[0]?.resourceAttributes;
    expect(res?.['process.command_args']).toBe('["node","harness.js",3]');
    expect(res?.['deployment']).toBe('{"env":"dev","canary":false}');
    expect(res?.['build.digest']).toBe('3q2+7w==');
  });

  it('derives tool calls, errors, agents and keeps other spans as context', () => {
    const [agent, , read, , bash, http] = fromJson.spans;
    expect(agent).toMatchObject({
      spanType: 'agent',
      operation: 'invoke_agent',
      intent: 'fix',
      pr: 101,
    });
    expect(read).toMatchObject({
      spanType: 'tool',
      toolName: 'Read',
      toolCallId: 'toolu_01',
      toolClass: 'read',
      resultBytes: 4800,
      resultTokens: 1200,
      argsHash: 'a'.repeat(64),
      pr: 101,
      isError: false,
    });
    expect(bash).toMatchObject({
      spanType: 'tool',
      toolClass: 'other',
      isError: true,
      statusCode: 2,
      statusMessage: 'exit 1',
    });
    expect(http).toMatchObject({ spanType: 'other', kind: 3, sessionId: '' });
  });

  it('accepts int64 as numbers and enums by name, as some producers send them', () => {
    const copy = JSON.parse(fixtureText) as {
      resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[];
    };
    const span = copy.resourceSpans[0]!.scopeSpans[0]!.spans[1]!;
    span.startTimeUnixNano = 1763974800100000000; // loses precision as a double: the value as parsed is kept
    span.kind = 'SPAN_KIND_CLIENT';
    const out = decodeTraceRequest(json(copy), 'json');
    expect(out.spans[1]?.kind).toBe(3);
    expect(out.spans[1]?.startTimeUnixNano).toBe(BigInt(1763974800100000000));
  });

  it('rejects an invalid span, counts it, and keeps the others', () => {
    const copy = JSON.parse(fixtureText) as {
      resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[];
    };
    copy.resourceSpans[0]!.scopeSpans[0]!.spans[2]!.traceId = 'xyz';
    copy.resourceSpans[0]!.scopeSpans[0]!.spans[3]!.spanId = '0000000000000000';
    const out = decodeTraceRequest(json(copy), 'json');
    expect(out.rejectedSpans).toBe(2);
    expect(out.spans).toHaveLength(4);
    expect(out.errors[0]).toContain(
      'resourceSpans[0].scopeSpans[0].spans[2].traceId: expected 32 hex characters',
    );
  });

  it('ignores a token count that is not a number, with a note', () => {
    const out = decodeTraceRequest(
      json({
        resourceSpans: [
          {
            scopeSpans: [
              {
                spans: [
                  {
                    traceId: 'a'.repeat(32),
                    spanId: 'b'.repeat(16),
                    name: 'chat m',
                    attributes: [
                      { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
                      { key: 'gen_ai.usage.input_tokens', value: { stringValue: 'lots' } },
                    ],
                  },
                ],
              },
            ],
          },
        ],
      }),
      'json',
    );
    expect(out.spans[0]).toMatchObject({ spanType: 'llm', inputTokens: 0 });
    expect(out.errors[0]).toContain('gen_ai.usage.input_tokens="lots"');
  });

  it('decodes an empty request to no spans', () => {
    expect(decodeTraceRequest(json({}), 'json')).toEqual({
      spans: [],
      rejectedSpans: 0,
      errors: [],
    });
    expect(decodeTraceRequest(new Uint8Array(0), 'protobuf')).toEqual({
      spans: [],
      rejectedSpans: 0,
      errors: [],
    });
  });

  it('throws OtlpDecodeError for garbage', () => {
    const bad = [
      () => decodeTraceRequest(json('{"resourceSpans": ['), 'json'),
      () => decodeTraceRequest(json('[1,2]'), 'json'),
      () => decodeTraceRequest(json({ resourceSpans: [{ scopeSpans: 'nope' }] }), 'json'),
      () =>
        decodeTraceRequest(Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]), 'protobuf'),
    ];
    for (const f of bad) {
      expect(f).toThrow(OtlpDecodeError);
      try {
        f();
      } catch (e) {
        expect(e).toMatchObject({ code: 'OTLP_DECODE_FAILED', retriable: false });
      }
    }
    expect(() =>
      decodeTraceRequest(json({ resourceSpans: [{ scopeSpans: 'nope' }] }), 'json'),
    ).toThrow('resourceSpans[0].scopeSpans: expected an array');
  });
});
