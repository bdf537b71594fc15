import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costPerPr } from '@harness-meter/queries';
import { loadConfig } from '../../pipeline/src/config.js';
import {
  encodeTraceRequestProtobuf,
  type OtlpTraceRequest,
} from '../../pipeline/src/decode/index.js';
import { startEmbedded, type RunningServer } from '../../pipeline/src/embedded.js';
import { silentLogger } from '../../pipeline/src/logger.js';
import { otlpType } from '../../pipeline/src/decode/proto.js';
import { tempDataDir } from '../helpers/store.js';

const DB = 'hm_receiver';
const LIMIT = 64 * 1024;
let server: RunningServer;
let url: string;
const fixtureText = readFileSync(new URL('../fixtures/otlp/session.json', import.meta.url), 'utf8');
const fixture = JSON.parse(fixtureText) as OtlpTraceRequest;
const window = { since: new Date('2025-11-01T00:00:00Z'), until: new Date('2025-12-01T00:00:00Z') };

beforeAll(async () => {
  server = await startEmbedded(
    loadConfig(
      {},
      {
        port: 0,
        dataDir: tempDataDir('receiver'),
        database: DB,
        batchMaxWaitMs: 10,
        maxBodyBytes: LIMIT,
      },
    ),
    silentLogger,
  );
  url = `${server.receiver.url}/v1/traces`;
});
afterAll(async () => {
  await server.stop();
});

const post = (body: Uint8Array | string, headers: Record<string, string>): Promise<Response> =>
  fetch(url, { method: 'POST', headers, body });
const JSON_CT = { 'content-type': 'application/json' };
const PROTO_CT = { 'content-type': 'application/x-protobuf' };

/** The server still takes a good request after a bad one. */
async function stillServing(): Promise<void> {
  const ok = await post(fixtureText, JSON_CT);
  expect(ok.status).toBe(200);
  expect(await ok.json()).toEqual({});
}

describe('OTLP/HTTP receiver', () => {
  it('accepts protobuf, JSON and gzip; a span delivered several times counts once', async () => {
    const proto = encodeTraceRequestProtobuf(fixture);
    const r1 = await post(proto, PROTO_CT);
    expect(r1.status).toBe(200);
    expect(r1.headers.get('content-type')).toBe('application/x-protobuf');
    expect((await r1.arrayBuffer()).byteLength).toBe(0); // full success: empty ExportTraceServiceResponse
    expect((await post(fixtureText, JSON_CT)).status).toBe(200);
    expect((await post(gzipSync(proto), { ...PROTO_CT, 'content-encoding': 'gzip' })).status).toBe(
      200,
    );
    expect(
      (await post(gzipSync(fixtureText), { ...JSON_CT, 'content-encoding': 'gzip' })).status,
    ).toBe(200);
    const rows = await costPerPr(server.client, { db: DB, ...window });
    // The fixture's spans on PR 101: one Sonnet call, one tool call (once, despite four deliveries).
    expect(rows.find((r) => r.pr === 101)).toMatchObject({
      llm_calls: 1,
      tool_calls: 1,
      input_tokens: 10_200,
    });
    const rs = await server.client.query({
      query: `SELECT count() AS n FROM ${DB}.spans`,
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([{ n: '6' }]);
  });

  it('answers partial_success when some spans are invalid, keeping the rest', async () => {
    const body = {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                { traceId: 'zz', spanId: '1'.repeat(16), name: 'bad' },
                {
                  traceId: '7'.repeat(32),
                  spanId: '8'.repeat(16),
                  name: 'good',
                  startTimeUnixNano: '1763974800000000000',
                },
              ],
            },
          ],
        },
      ],
    };
    const res = await post(JSON.stringify(body), JSON_CT);
    expect(res.status).toBe(200);
    const answer = (await res.json()) as {
      partialSuccess: { rejectedSpans: string; errorMessage: string };
    };
    expect(answer.partialSuccess.rejectedSpans).toBe('1');
    expect(answer.partialSuccess.errorMessage).toContain('traceId: expected 32 hex characters');
    const proto = await post(encodeTraceRequestProtobuf(body), PROTO_CT);
    const decoded = otlpType(
      'opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse',
    ).toObject(
      otlpType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse').decode(
        new Uint8Array(await proto.arrayBuffer()),
      ),
      { longs: String },
    );
    expect(decoded).toMatchObject({ partialSuccess: { rejectedSpans: '1' } });
  });

  const bad: [string, () => Promise<Response>, number, RegExp][] = [
    [
      'malformed protobuf',
      () => post(Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2]), PROTO_CT),
      400,
      /not a valid protobuf ExportTraceServiceRequest/,
    ],
    ['malformed JSON', () => post('{"resourceSpans": [', JSON_CT), 400, /not valid JSON/],
    [
      'JSON of the wrong shape',
      () => post('{"resourceSpans": {"a": 1}}', JSON_CT),
      400,
      /resourceSpans: expected an array/,
    ],
    [
      'wrong content type',
      () => post('hello', { 'content-type': 'text/plain' }),
      415,
      /Content-Type "text\/plain" is not supported/,
    ],
    [
      'unknown content encoding',
      () => post('x', { ...JSON_CT, 'content-encoding': 'br' }),
      415,
      /Content-Encoding "br" is not supported/,
    ],
    [
      'a body over the size limit',
      () => post('x'.repeat(LIMIT + 1), JSON_CT),
      413,
      /larger than the limit of 65536 bytes/,
    ],
    [
      'gzip that expands past the limit',
      () =>
        post(gzipSync(Buffer.alloc(LIMIT * 50, 0x20)), { ...JSON_CT, 'content-encoding': 'gzip' }),
      413,
      /expands past the limit/,
    ],
    [
      'broken gzip',
      () => post(Buffer.from('not gzip at all'), { ...JSON_CT, 'content-encoding': 'gzip' }),
      400,
      /not valid gzip/,
    ],
  ];
  for (const [what, send, status, message] of bad) {
    it(`rejects ${what} with ${status} and a clear message, then keeps serving`, async () => {
      const res = await send();
      expect(res.status).toBe(status);
      const raw = Buffer.from(await res.arrayBuffer()).toString('utf8');
      const text =
        res.headers.get('content-type') === 'application/json'
          ? (JSON.parse(raw) as { message: string }).message
          : raw;
      expect(text).toMatch(message);
      await stillServing();
    });
  }

  it('answers protobuf errors as google.rpc.Status', async () => {
    const res = await post(Uint8Array.from([0xff, 0xff, 0xff]), PROTO_CT);
    expect(res.status).toBe(400);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(bytes[0]).toBe(0x08); // field 1 (code), varint
    expect(bytes[1]).toBe(3); // INVALID_ARGUMENT
  });

  it('serves reports over its API and says what it knows on /healthz', async () => {
    const health = (await (await fetch(`${server.receiver.url}/healthz`)).json()) as Record<
      string,
      unknown
    >;
    expect(health).toMatchObject({ status: 'ok', mode: 'embedded', database: DB });
    const res = await fetch(
      `${server.receiver.url}/api/v1/reports/cost-per-pr?since=2025-11-01&until=2025-12-01`,
    );
    const body = (await res.json()) as { rows: { pr: number | null }[] };
    expect(body.rows.map((r) => r.pr)).toContain(101);
    const badParam = await fetch(`${server.receiver.url}/api/v1/reports/cost?by=planet`);
    expect(badParam.status).toBe(400);
    expect(((await badParam.json()) as { error: string }).error).toMatch(/not a dimension/);
    expect((await fetch(`${server.receiver.url}/v1/profiles`, { method: 'POST' })).status).toBe(
      404,
    );
  });
});
