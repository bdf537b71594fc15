import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/src/config.js';
import { otlpType } from '../../pipeline/src/decode/proto.js';
import { startEmbedded, type RunningServer } from '../../pipeline/src/embedded.js';
import { signBody } from '../../pipeline/src/github/webhook.js';
import { silentLogger } from '../../pipeline/src/logger.js';
import { CATALOGUE, request, span, type BadCase } from '../fixtures/bad-input/catalogue.js';
import { queryRows } from '../helpers/server.js';
import { tempDataDir } from '../helpers/store.js';

const SECRET = 'catalogue-webhook-secret';
/** Clients sending the catalogue at once. */
const CLIENTS = 16;
const db = `hm_bad_${randomUUID().slice(0, 8)}`;
let server: RunningServer;

beforeAll(async () => {
  const config = loadConfig(
    {
      HM_ALERTS_INTERVAL_MS: '3600000',
      HM_GITHUB_WEBHOOK_SECRET: SECRET,
    },
    {
      port: 0,
      dataDir: tempDataDir('bad-input'),
      database: db,
      batchMaxWaitMs: 10,
      maxBodyBytes: 2 * 1024 * 1024,
    },
  );
  server = await startEmbedded(config, silentLogger);
});
afterAll(() => server.stop());

const RESPONSE_TYPES: Record<string, string> = {
  '/v1/traces': 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse',
  '/v1/logs': 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse',
  '/v1/metrics': 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse',
};

/** The rejected count of an OTLP answer (JSON or protobuf), 0 when it has none. */
function rejectedOf(path: string, contentType: string, bytes: Buffer): number {
  let partial: Record<string, unknown> | undefined;
  if (contentType.startsWith('application/json'))
    partial = (JSON.parse(bytes.toString('utf8')) as { partialSuccess?: Record<string, unknown> })
      .partialSuccess;
  else {
    const type = otlpType(RESPONSE_TYPES[path]!);
    partial = (
      type.toObject(type.decode(bytes), { longs: String }) as {
        partialSuccess?: Record<string, unknown>;
      }
    ).partialSuccess;
  }
  const n = partial?.rejectedSpans ?? partial?.rejectedLogRecords ?? partial?.rejectedDataPoints;
  return n === undefined ? 0 : Number(n);
}

async function send(
  c: BadCase,
): Promise<{ status: number; rejected: number; text: string; headers: Headers }> {
  const headers: Record<string, string> = { ...(c.headers ?? {}) };
  if (c.contentType !== undefined) headers['content-type'] = c.contentType;
  const body =
    c.body === undefined ? undefined : typeof c.body === 'string' ? Buffer.from(c.body) : c.body;
  if (c.githubEvent !== undefined) {
    headers['x-github-event'] = c.githubEvent;
    headers['x-github-delivery'] = randomUUID();
    headers['x-hub-signature-256'] = signBody(SECRET, body ?? '');
  }
  const res = await fetch(`${server.receiver.url}${c.path}`, {
    method: c.method ?? 'POST',
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  const path = c.path.split('?')[0] ?? '';
  const rejected =
    res.status === 200 && RESPONSE_TYPES[path] !== undefined
      ? rejectedOf(path, res.headers.get('content-type') ?? '', bytes)
      : 0;
  return {
    status: res.status,
    rejected,
    text: bytes.toString('utf8').slice(0, 300),
    headers: res.headers,
  };
}

/** A good span from another client, after each bad request. */
async function sendGood(i: number): Promise<number> {
  const res = await fetch(`${server.receiver.url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(
      request([
        span(`good-${i}`, {
          traceId: `900d${i.toString(16).padStart(28, '0')}`,
          spanId: `900d${i.toString(16).padStart(12, '0')}`,
        }),
      ]),
    ),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('bad-input catalogue (one embedded server, real chDB)', () => {
  it(`answers each of the ${CATALOGUE.length} bad requests with its documented status, and keeps serving everyone else`, async () => {
    expect(CATALOGUE.length).toBeGreaterThanOrEqual(100);
    expect(new Set(CATALOGUE.map((c) => c.name)).size).toBe(CATALOGUE.length);
    const wrong: string[] = [];
    const check = async (i: number, c: BadCase): Promise<void> => {
      const answer = await send(c);
      if (answer.status !== c.status)
        wrong.push(`${c.name}: status ${answer.status}, expected ${c.status} (${answer.text})`);
      else if (c.rejected !== undefined && answer.rejected !== c.rejected)
        wrong.push(
          `${c.name}: rejected ${answer.rejected}, expected ${c.rejected} (${answer.text})`,
        );
      if (answer.status >= 500 && answer.status !== 503)
        wrong.push(`${c.name}: a 5xx for bad input`);
      if (answer.status === 503 && answer.headers.get('retry-after') === null)
        wrong.push(`${c.name}: 503 without Retry-After`);
      const good = await sendGood(i);
      if (good !== 200) wrong.push(`${c.name}: the next good request got ${good}`);
    };
    // CLIENTS clients at once, each sending its cases in turn (a bad request, then a good one):
    // every good request waits for its store write, and one at a time those writes were most of
    // this test's minute; concurrent ones share an insert. Other clients' requests are in flight
    // while each bad one is handled, which is what "keeps serving everyone else" means.
    let next = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        for (let i = next++; i < CATALOGUE.length; i = next++) await check(i, CATALOGUE[i]!);
      }),
    );
    expect(wrong).toEqual([]);
    await server.sink.flush();

    // Every good span stored exactly once; no refused span stored; every sibling kept.
    const good = await queryRows<{ n: string; distinct: string }>(
      server,
      `SELECT count() AS n, uniqExact(SpanName) AS distinct FROM ${db}.spans WHERE SpanName LIKE 'good-%'`,
    );
    expect(good[0]).toEqual({ n: String(CATALOGUE.length), distinct: String(CATALOGUE.length) });
    const bad = await queryRows<{ SpanName: string }>(
      server,
      `SELECT SpanName FROM ${db}.spans WHERE SpanName LIKE 'bad-%' OR startsWith(TraceId, 'badc') AND SpanName NOT LIKE 'sib-%' AND SpanName NOT LIKE 'fixed-%'`,
    );
    expect(bad).toEqual([]);
    const siblings = await queryRows<{ n: string }>(
      server,
      `SELECT count() AS n FROM ${db}.spans WHERE SpanName LIKE 'sib-%'`,
    );
    expect(Number(siblings[0]?.n)).toBe(CATALOGUE.reduce((n, c) => n + (c.siblings ?? 0), 0));

    // Kept spans are valid UTF-8 everywhere, bounded and marked when cut.
    const invalid = await queryRows<{ n: string }>(
      server,
      `SELECT count() AS n FROM ${db}.spans
       WHERE NOT isValidUTF8(SpanName) OR NOT isValidUTF8(StatusMessage)
          OR arrayExists(x -> NOT isValidUTF8(x), mapKeys(SpanAttributes))
          OR arrayExists(x -> NOT isValidUTF8(x), mapValues(SpanAttributes))
          OR arrayExists(x -> NOT isValidUTF8(x), mapValues(ResourceAttributes))`,
    );
    expect(invalid[0]?.n).toBe('0');
    const fixedRows = await queryRows<{
      name: string;
      attrs: string;
      longest: string;
      truncated: string;
    }>(
      server,
      `SELECT substring(SpanName, 1, 12) AS name, toString(length(SpanAttributes)) AS attrs,
              toString(arrayMax(arrayMap(x -> lengthUTF8(x), mapValues(SpanAttributes)))) AS longest,
              SpanAttributes['harness_meter.truncated'] AS truncated
       FROM ${db}.spans WHERE SpanName IN ('fixed-l1', 'fixed-l2', 'fixed-u1') ORDER BY name`,
    );
    expect(fixedRows).toEqual([
      // 5000 attributes: 128 kept, the mark added (its value is the longest)
      { name: 'fixed-l1', attrs: '129', longest: '24', truncated: 'attributes=4872,values=0' },
      { name: 'fixed-l2', attrs: '2', longest: '16384', truncated: 'attributes=0,values=1' },
      { name: 'fixed-u1', attrs: '1', longest: '1', truncated: '' },
    ]);
    const u1 = await queryRows<{ x: string }>(
      server,
      `SELECT SpanAttributes['x'] AS x FROM ${db}.spans WHERE SpanName = 'fixed-u1'`,
    );
    expect(u1).toEqual([{ x: '\ufffd' }]);
    const metrics = await (await fetch(`${server.receiver.url}/metrics`)).text();
    expect(metrics).toMatch(
      /harness_meter_rejected_spans_total\{signal="traces",stage="decode"\} \d+/,
    );
    expect(metrics).toMatch(/harness_meter_truncated_spans_total\{signal="traces"\} \d+/);
  });

  it('when the store refuses a row anyway, splits the batch: good rows stored, the bad one dead-lettered, no 503 for anyone', async () => {
    // A real refusal by ClickHouse: a CHECK constraint on the spans table (test-only, on this database).
    await server.client.command({
      query: `ALTER TABLE ${db}.spans ADD CONSTRAINT hm_test_refuse CHECK SpanName != 'refuse-me'`,
    });
    try {
      const mixed = request([
        ...Array.from({ length: 6 }, (_, i) => span(`split-${i}`)),
        span('refuse-me'),
        span('split-6'),
      ]);
      const other = request([span('other-client')]);
      const [a, b] = await Promise.all(
        [mixed, other].map((r) =>
          fetch(`${server.receiver.url}/v1/traces`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(r),
          }),
        ),
      );
      expect(a?.status).toBe(200);
      expect(b?.status).toBe(200);
      const answer = (await a!.json()) as {
        partialSuccess?: { rejectedSpans?: string; errorMessage?: string };
      };
      expect(answer.partialSuccess?.rejectedSpans).toBe('1');
      expect(answer.partialSuccess?.errorMessage).toContain('refused by the store');
      expect(await b!.json()).toEqual({});
      await server.sink.flush();
      const stored = await queryRows<{ SpanName: string }>(
        server,
        `SELECT SpanName FROM ${db}.spans WHERE SpanName LIKE 'split-%' OR SpanName IN ('refuse-me', 'other-client') ORDER BY SpanName`,
      );
      expect(stored.map((r) => r.SpanName)).toEqual([
        'other-client',
        ...Array.from({ length: 7 }, (_, i) => `split-${i}`),
      ]);
      const dead = await queryRows<{
        stage: string;
        reason: string;
        sample: string;
        span_id: string;
      }>(server, `SELECT stage, reason, sample, span_id FROM ${db}.rejected_spans`);
      expect(dead).toHaveLength(1);
      expect(dead[0]?.stage).toBe('sink');
      expect(dead[0]?.reason).toContain('hm_test_refuse');
      expect(dead[0]?.sample).toContain('"SpanName":"refuse-me"');
      const metrics = await (await fetch(`${server.receiver.url}/metrics`)).text();
      expect(metrics).toContain('harness_meter_dead_letters_total{stage="sink"} 1');
    } finally {
      await server.client.command({
        query: `ALTER TABLE ${db}.spans DROP CONSTRAINT hm_test_refuse`,
      });
    }
  });
});
