import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { context, SpanKind, trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
// Comes with @opentelemetry/exporter-trace-otlp-proto: the serializers the OTel JS exporters use.
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import {
  decodeTraceRequest,
  encodeTraceRequestProtobuf,
  MAX_DECODE_ERRORS,
  MAX_TOKEN_COUNT,
  OtlpDecodeError,
  protobufToOtlpObject,
  type DecodedTraces,
  type OtlpAnyValue,
  type OtlpSpan,
  type OtlpTraceRequest,
} from '../../pipeline/src/decode/index.js';

const fixtureText = readFileSync(new URL('../fixtures/otlp/session.json', import.meta.url), 'utf8');
const fixture = JSON.parse(fixtureText) as OtlpTraceRequest;
const json = (v: unknown): Uint8Array => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
const fresh = (): OtlpTraceRequest => JSON.parse(fixtureText) as OtlpTraceRequest;
const spansOf = (req: OtlpTraceRequest): OtlpSpan[] =>
  req.resourceSpans?.[0]?.scopeSpans?.[0]?.spans ?? [];

/** Decodes a request given in OTLP/JSON shape both ways; fails unless both give the same result. */
function bothWays(req: OtlpTraceRequest): DecodedTraces {
  const fromJson = decodeTraceRequest(json(req), 'json');
  const fromProto = decodeTraceRequest(encodeTraceRequestProtobuf(req), 'protobuf');
  expect(fromProto).toEqual(fromJson);
  return fromJson;
}

/** A one-span request with these span attributes (and optional resource attributes). */
function oneSpan(
  attrs: Record<string, OtlpAnyValue>,
  resource: Record<string, OtlpAnyValue> = {},
  span: Partial<OtlpSpan> = {},
): OtlpTraceRequest {
  const kvs = (o: Record<string, OtlpAnyValue>) =>
    Object.entries(o).map(([key, value]) => ({ key, value }));
  return {
    resourceSpans: [
      {
        resource: { attributes: kvs(resource) },
        scopeSpans: [
          {
            scope: { name: 'test' },
            spans: [
              {
                traceId: '0af7651916cd43dd8448eb211c80319c',
                spanId: 'b7ad6b7169203331',
                name: 'span',
                kind: 1,
                startTimeUnixNano: '1763974800000000000',
                endTimeUnixNano: '1763974801000000000',
                attributes: kvs(attrs),
                ...span,
              },
            ],
          },
        ],
      },
    ],
  };
}

const s = (stringValue: string): OtlpAnyValue => ({ stringValue });
const i = (intValue: string | number): OtlpAnyValue => ({ intValue });

describe('OTLP trace decoding', () => {
  const fromJson = decodeTraceRequest(json(fixtureText), 'json');
  const fixturePb = encodeTraceRequestProtobuf(fixture);
  const fromProto = decodeTraceRequest(fixturePb, 'protobuf');

  it('decodes JSON and protobuf of the same spans to the same records', () => {
    expect(fromJson.spans).toHaveLength(6);
    expect(fromJson.rejectedSpans).toBe(0);
    expect(fromJson.errors).toEqual([]);
    expect(fromProto).toEqual(fromJson);
    expect(fromJson.spans.map((r) => r.spanType)).toEqual([
      'agent',
      'llm',
      'tool',
      'llm',
      'tool',
      'other',
    ]);
  });

  it('encodes a real ExportTraceServiceRequest, stable through a decode and re-encode', () => {
    // Field 1 (resource_spans), length-delimited: what every OTLP exporter's body starts with.
    expect(fixturePb[0]).toBe(0x0a);
    expect(Buffer.from(encodeTraceRequestProtobuf(protobufToOtlpObject(fixturePb)))).toEqual(
      Buffer.from(fixturePb),
    );
    const back = protobufToOtlpObject(fixturePb);
    expect(spansOf(back)[1]).toMatchObject({
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b175',
      parentSpanId: 'eee19b7ec3c1b174',
      startTimeUnixNano: '1763974800100000000',
      kind: 3,
    });
  });

  it('derives the LLM call: provider, models, usage with the 5m/1h split, reported cost, session context', () => {
    const llm = fromJson.spans[1];
    expect(llm).toMatchObject({
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b175',
      parentSpanId: 'eee19b7ec3c1b174',
      name: 'chat claude-sonnet-4-5',
      kind: 3,
      startTimeUnixNano: 1763974800100000000n,
      endTimeUnixNano: 1763974803100000000n,
      statusCode: 0,
      spanType: 'llm',
      operation: 'chat',
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
      reasoningTokens: 0,
      reportedCostNanos: 12345679n, // 0.0123456789 USD, half up at the 10th decimal
      toolName: '',
      toolClass: '',
      isError: false,
    });
    expect(llm?.spanAttributes['gen_ai.usage.input_tokens']).toBe('10200');
  });

  it('accepts deprecated names (gen_ai.system, prompt/completion tokens) and keeps other attributes as strings', () => {
    const openai = fromJson.spans[3];
    expect(openai).toMatchObject({
      spanType: 'llm',
      provider: 'openai',
      requestModel: 'gpt-4o',
      inputTokens: 5000,
      outputTokens: 400,
      cacheReadTokens: 4000,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
      reportedCostNanos: null,
      branch: 'main', // from the resource
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
      parentSpanId: '',
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
      targetHash: 'b'.repeat(64),
      pr: 101, // '#101'
      inputTokens: 0,
      isError: false,
    });
    expect(bash).toMatchObject({
      spanType: 'tool', // no operation name, but gen_ai.tool.name
      toolName: 'Bash',
      toolClass: 'other', // 'shell-ish' is not a tool class
      isError: true,
      statusCode: 2,
      statusMessage: 'exit 1',
    });
    expect(http).toMatchObject({
      spanType: 'other',
      kind: 3,
      sessionId: '',
      developer: 'ana',
      source: 'sdk',
    });
    expect(http?.spanAttributes['http.response.status_code']).toBe('200');
  });

  it('reads what the OpenTelemetry JS exporters write (protobuf and JSON, where intValue is a number)', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const tracer = provider.getTracer('otel-js-test', '1.0.0');
    const root = tracer.startSpan('invoke_agent coder', {
      attributes: {
        'gen_ai.operation.name': 'invoke_agent',
        'session.id': 's-9',
      },
    });
    const rootCtx = root.spanContext();
    const child = tracer.startSpan(
      'chat gpt-4o',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'openai',
          'gen_ai.request.model': 'gpt-4o',
          'gen_ai.usage.input_tokens': 1234,
          'gen_ai.usage.output_tokens': 56,
          'gen_ai.request.temperature': 0.7,
          'gen_ai.response.finish_reasons': ['stop'],
        },
      },
      trace.setSpan(context.active(), root),
    );
    child.end();
    root.end();
    const finished = exporter.getFinishedSpans();
    const pb = ProtobufTraceSerializer.serializeRequest(finished);
    const js = JsonTraceSerializer.serializeRequest(finished);
    if (!pb || !js) throw new Error('the OTel serializers returned nothing');
    expect(Buffer.from(js).toString()).toContain('"intValue":1234'); // a number, not a string
    const a = decodeTraceRequest(pb, 'protobuf');
    const b = decodeTraceRequest(js, 'json');
    expect(a).toEqual(b);
    expect(a.rejectedSpans).toBe(0);
    const chat = a.spans.find((r) => r.spanType === 'llm');
    const agent = a.spans.find((r) => r.spanType === 'agent');
    expect(agent).toMatchObject({
      traceId: rootCtx.traceId,
      spanId: rootCtx.spanId,
    });
    expect(chat).toMatchObject({
      traceId: rootCtx.traceId,
      parentSpanId: rootCtx.spanId,
      kind: 3, // OTLP numbering: the API's SpanKind.CLIENT is 2
      provider: 'openai',
      inputTokens: 1234,
      outputTokens: 56,
      scopeName: 'otel-js-test',
      serviceName: expect.stringMatching(/^unknown_service/) as unknown,
    });
    expect(chat?.spanAttributes['gen_ai.request.temperature']).toBe('0.7');
    expect(chat?.spanAttributes['gen_ai.response.finish_reasons']).toBe('["stop"]');
    const started = finished.find((sp) => sp.name === 'chat gpt-4o')?.startTime ?? [0, 0];
    expect(chat?.startTimeUnixNano).toBe(BigInt(started[0]) * 1_000_000_000n + BigInt(started[1]));
  });

  it('accepts int64 as decimal strings and as numbers, keeps nanosecond precision, and enums by name', () => {
    const asStrings = fresh();
    const asNumbers = fresh();
    const spStr = spansOf(asStrings)[2]!;
    const spNum = spansOf(asNumbers)[2]!;
    spStr.startTimeUnixNano = '1763974803200000123'; // not representable as a double
    spNum.startTimeUnixNano = 1763974803200000000; // a double that is exactly an integer
    spNum.endTimeUnixNano = 1763974803220000000;
    spNum.kind = 'SPAN_KIND_INTERNAL';
    for (const kv of spNum.attributes ?? [])
      if (kv.value?.intValue !== undefined) kv.value.intValue = Number(kv.value.intValue);
    const str = bothWays(asStrings).spans[2];
    const num = bothWays(asNumbers).spans[2];
    expect(str?.startTimeUnixNano).toBe(1763974803200000123n);
    expect(num).toEqual(fromJson.spans[2]);
    expect(num).toMatchObject({
      kind: 1,
      resultBytes: 4800,
      resultTokens: 1200,
    });
  });

  it('renders every kind of attribute value the same from JSON and protobuf', () => {
    const out = bothWays(
      oneSpan({
        str: s('héllo "x"'),
        empty: s(''),
        t: { boolValue: true },
        f: { boolValue: false },
        zero: i('0'),
        neg: i('-42'),
        num: i(42),
        padded: i('007'),
        huge: i('9223372036854775807'),
        dbl: { doubleValue: 1.5 },
        dblInt: { doubleValue: 3 },
        dblStr: { doubleValue: '2.25' },
        nan: { doubleValue: 'NaN' },
        bytes: { bytesValue: 'AAEC/w==' },
        noBytes: { bytesValue: '' },
        arr: {
          arrayValue: {
            values: [s('a'), i('1'), { doubleValue: 0.5 }, { boolValue: true }, {}],
          },
        },
        emptyArr: { arrayValue: {} },
        kv: {
          kvlistValue: {
            values: [
              { key: 'k', value: s('v') },
              {
                key: 'n',
                value: { arrayValue: { values: [i('9007199254740993')] } },
              },
              {
                key: 'm',
                value: {
                  kvlistValue: {
                    values: [{ key: 'b', value: { bytesValue: 'qg==' } }],
                  },
                },
              },
            ],
          },
        },
        unset: {},
      }),
    );
    expect(out.spans[0]?.spanAttributes).toEqual({
      str: 'héllo "x"',
      empty: '',
      t: 'true',
      f: 'false',
      zero: '0',
      neg: '-42',
      num: '42',
      padded: '7',
      huge: '9223372036854775807',
      dbl: '1.5',
      dblInt: '3',
      dblStr: '2.25',
      nan: 'NaN',
      bytes: 'AAEC/w==',
      noBytes: '',
      arr: '["a",1,0.5,true,null]',
      emptyArr: '[]',
      kv: '{"k":"v","n":["9007199254740993"],"m":{"b":"qg=="}}',
      unset: '',
    });
  });

  it('rejects spans with a missing, zero or ill-sized id, counts them, and keeps the others', () => {
    const req = fresh();
    const spans = spansOf(req);
    spans[1]!.traceId = '5b8efff798038103'; // 8 bytes
    spans[2]!.spanId = '0000000000000000';
    delete spans[3]!.traceId;
    spans[4]!.spanId = 'abcd'.repeat(3); // 6 bytes
    spans[5]!.parentSpanId = '0000000000000000'; // a zero parent is a root, not an error
    const out = bothWays(req);
    expect(out.rejectedSpans).toBe(4);
    expect(out.spans.map((r) => r.spanId)).toEqual(['eee19b7ec3c1b174', 'eee19b7ec3c1b179']);
    expect(out.spans[1]?.parentSpanId).toBe('');
    expect(out.errors).toHaveLength(4);
    expect(out.errors[0]).toBe(
      'resourceSpans[0].scopeSpans[0].spans[1].traceId: expected 32 hex characters, got "5b8efff798038103"',
    );
    // Not hex at all: only OTLP/JSON can carry that.
    spans[1]!.traceId = 'xyz';
    expect(decodeTraceRequest(json(req), 'json').errors[0]).toBe(
      'resourceSpans[0].scopeSpans[0].spans[1].traceId: expected 32 hex characters, got "xyz"',
    );
    expect(out.errors[1]).toContain(
      'resourceSpans[0].scopeSpans[0].spans[2].spanId: an all-zero id',
    );
    expect(out.errors[2]).toContain('spans[3].traceId: expected 32 hex characters, got nothing');
    expect(out.errors[3]).toContain('spans[4].spanId: expected 16 hex characters');
  });

  it('lower-cases ids and rejects a span whose time is not an integer', () => {
    const req = fresh();
    const spans = spansOf(req);
    spans[0]!.traceId = '5B8EFFF798038103D269B633813FC60C';
    spans[1]!.startTimeUnixNano = '12.5';
    const out = decodeTraceRequest(json(req), 'json');
    expect(out.spans[0]?.traceId).toBe('5b8efff798038103d269b633813fc60c');
    expect(out.rejectedSpans).toBe(1);
    expect(out.errors[0]).toContain(
      'spans[1].startTimeUnixNano: expected an unsigned 64-bit integer',
    );
  });

  it('bounds the reasons kept, not the count', () => {
    const req = fresh();
    const many = Array.from({ length: MAX_DECODE_ERRORS + 5 }, () => ({
      ...spansOf(req)[0]!,
      spanId: 'bad',
    }));
    req.resourceSpans![0]!.scopeSpans![0]!.spans = many;
    const out = decodeTraceRequest(json(req), 'json');
    expect(out.rejectedSpans).toBe(MAX_DECODE_ERRORS + 5);
    expect(out.errors).toHaveLength(MAX_DECODE_ERRORS);
  });

  it('rejects a span whose token count is not a non-negative integer within the bound, never storing 0', () => {
    const bad: [string, OtlpAnyValue][] = [
      ['gen_ai.usage.input_tokens', s('lots')],
      ['gen_ai.usage.output_tokens', i('-5')],
      ['gen_ai.usage.cache_read.input_tokens', { doubleValue: 12.5 }],
      ['harness_meter.tool.result_bytes', s('0x10')],
      ['gen_ai.usage.input_tokens', s('NaN')],
      ['gen_ai.usage.input_tokens', { doubleValue: 1e30 }],
      ['gen_ai.usage.input_tokens', i('9223372036854775807')],
      ['gen_ai.usage.input_tokens', i('9000000000000000')],
      ['gen_ai.usage.output_tokens', i(String(MAX_TOKEN_COUNT + 1))],
    ];
    for (const [key, value] of bad) {
      const out = bothWays(oneSpan({ 'gen_ai.operation.name': s('chat'), [key]: value }));
      expect(out.rejectedSpans, `${key}=${JSON.stringify(value)}`).toBe(1);
      expect(out.spans).toEqual([]);
      expect(out.errors[0]).toContain(`resourceSpans[0].scopeSpans[0].spans[0]: ${key}=`);
    }
    const fine = bothWays(
      oneSpan({
        'gen_ai.operation.name': s('chat'),
        'gen_ai.usage.reasoning.output_tokens': { doubleValue: 300 }, // integral double: fine
        'gen_ai.usage.input_tokens': i(String(MAX_TOKEN_COUNT)),
      }),
    );
    expect(fine.rejectedSpans).toBe(0);
    expect(fine.spans[0]).toMatchObject({ reasoningTokens: 300, inputTokens: MAX_TOKEN_COUNT });
  });

  it('decodes an empty request to no spans', () => {
    const none = { spans: [], rejectedSpans: 0, errors: [] };
    expect(decodeTraceRequest(json({}), 'json')).toEqual(none);
    expect(decodeTraceRequest(json({ resourceSpans: [] }), 'json')).toEqual(none);
    expect(decodeTraceRequest(json({ resourceSpans: [{ scopeSpans: [{}] }] }), 'json')).toEqual(
      none,
    );
    expect(decodeTraceRequest(new Uint8Array(0), 'protobuf')).toEqual(none);
    expect(decodeTraceRequest(encodeTraceRequestProtobuf({}), 'protobuf')).toEqual(none);
  });

  it('throws OtlpDecodeError (OTLP_DECODE_FAILED, not retriable) for garbage, saying what and where', () => {
    const cases: [() => unknown, string][] = [
      [() => decodeTraceRequest(json('{"resourceSpans": ['), 'json'), 'The body is not valid JSON'],
      // Bytes that are not UTF-8 become U+FFFD (a string keeps its span); here that breaks the JSON.
      [() => decodeTraceRequest(Uint8Array.from([0x7b, 0xff, 0x7d]), 'json'), 'not valid JSON'],
      [
        () => decodeTraceRequest(json('[1,2]'), 'json'),
        'expected a JSON object with a resourceSpans array',
      ],
      [() => decodeTraceRequest(json('null'), 'json'), 'expected a JSON object'],
      [
        () => decodeTraceRequest(json({ resourceSpans: {} }), 'json'),
        'resourceSpans: expected an array',
      ],
      [
        () => decodeTraceRequest(json({ resourceSpans: [{ scopeSpans: 'nope' }] }), 'json'),
        'resourceSpans[0].scopeSpans: expected an array, got "nope"',
      ],
      [
        () =>
          decodeTraceRequest(json({ resourceSpans: [{ scopeSpans: [{ spans: [1] }] }] }), 'json'),
        'resourceSpans[0].scopeSpans[0].spans[0]: expected an object',
      ],
      [
        () => decodeTraceRequest(json(oneSpan({ n: i('12abc') })), 'json'),
        'resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.intValue: expected an integer',
      ],
      [
        () =>
          decodeTraceRequest(
            json(oneSpan({}, { b: { boolValue: 'yes' as unknown as boolean } })),
            'json',
          ),
        'resourceSpans[0].resource.attributes[0].value.boolValue: expected true or false, got "yes"',
      ],
      [
        () =>
          decodeTraceRequest(
            json(
              oneSpan({
                a: {
                  arrayValue: {
                    values: [{ stringValue: 5 as unknown as string }],
                  },
                },
              }),
            ),
            'json',
          ),
        'attributes[0].value.arrayValue.values[0].stringValue: expected a string, got 5',
      ],
      [
        () =>
          decodeTraceRequest(
            Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]),
            'protobuf',
          ),
        'The body is not a valid protobuf ExportTraceServiceRequest',
      ],
      [() => decodeTraceRequest(json('hello, world'), 'protobuf'), 'not a valid protobuf'],
      [() => decodeTraceRequest(json(fixtureText), 'protobuf'), 'not a valid protobuf'],
      [
        () => decodeTraceRequest(fixturePb.subarray(0, fixturePb.length - 7), 'protobuf'),
        'not a valid protobuf',
      ],
    ];
    for (const [f, message] of cases) {
      let thrown: unknown;
      try {
        f();
      } catch (e) {
        thrown = e;
      }
      expect(thrown, message).toBeInstanceOf(OtlpDecodeError);
      expect(thrown).toMatchObject({
        code: 'OTLP_DECODE_FAILED',
        retriable: false,
        name: 'OtlpDecodeError',
      });
      expect((thrown as Error).message).toContain(message);
    }
  });
});
