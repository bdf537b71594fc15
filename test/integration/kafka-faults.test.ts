import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { costPerPr, migrateUp, openStore } from '@harness-meter/queries';
import { loadConfig } from '../../pipeline/src/config.js';
import { encodeTraceRequestProtobuf } from '../../pipeline/src/decode/index.js';
import { startKafkaPipeline } from '../../pipeline/src/kafka/run.js';
import { silentLogger } from '../../pipeline/src/logger.js';
import { BROKER_SCRIPT } from '../setup/kafka.js';
import { CLI, freePort, waitForExit } from '../helpers/cli.js';
import {
  gpt4oRequests,
  GPT4O_SPAN_NANOS,
  kafkaEnv,
  kafkaTestConfig,
  testKafka,
  waitFor,
} from '../helpers/kafka.js';
import { tempDataDir } from '../helpers/store.js';

const children: ChildProcess[] = [];
/** The last lines a spawned stage printed, for the message of a failed wait. */
const outputs = new WeakMap<ChildProcess, () => string>();
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

function spawnStage(stage: 'enrich' | 'ingest', env: Record<string, string>): ChildProcess {
  // Alerts are off: they are not under test here, and their rounds would add load to the store.
  const child = spawn(process.execPath, [CLI, 'run', stage], {
    env: { ...process.env, HM_LOG_LEVEL: 'info', HM_ALERTS: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.on('exit', (code, signal) => {
    if (signal !== 'SIGKILL' && code !== 0)
      console.log(`enrich process exited ${code ?? signal}:\n${output}`);
  });
  children.push(child);
  outputs.set(child, () => output);
  return child;
}

/** waitFor, and on a time-out the stage's own last output in the error (a hung stage says why). */
async function waitForStage<T>(
  child: ChildProcess,
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs: number,
  everyMs: number,
): Promise<T> {
  try {
    return await waitFor(what, probe, timeoutMs, everyMs);
  } catch (err) {
    throw new Error(
      `${err instanceof Error ? err.message : String(err)}\nthe stage's last output:\n${outputs.get(child)?.() ?? '(none)'}`,
    );
  }
}

/** LLM calls and cost stored, from the per-minute rollup (a cheap report to poll). */
async function storedTotals(
  apiUrl: string,
): Promise<{ llm_calls: number; cost_nanos: string } | undefined> {
  // Polled while processes are killed and restarted: a refused or dropped connection is "not yet".
  const res = await fetch(`${apiUrl}/api/v1/reports/cost?by=model&since=2d`).catch(() => undefined);
  if (!res?.ok) return undefined;
  const body = (await res.json()) as { rows: { llm_calls: number; cost_nanos: string }[] };
  return body.rows[0];
}

async function prRow(
  apiUrl: string,
  pr: number,
): Promise<{ llm_calls: number; cost_nanos: string } | undefined> {
  const res = await fetch(`${apiUrl}/api/v1/reports/cost-per-pr?since=2d`);
  if (!res.ok) return undefined;
  const body = (await res.json()) as {
    rows: { pr: number | null; llm_calls: number; cost_nanos: string }[];
  };
  return body.rows.find((r) => r.pr === pr);
}

async function metric(apiUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  const m = new RegExp(`^harness_meter_${name} (\\d+)`, 'm').exec(text);
  return Number(m?.[1] ?? 0);
}

// Bounded, but generous: a 2-core CI machine may be busy. One retry: these tests kill processes and
// stop brokers on a loaded machine; a second failure is a real one.
describe(
  'faults against a real broker, with real processes',
  { timeout: 180_000, retry: 1 },
  () => {
    it('kill -9 of the enrich process mid-stream, then a restart: exactly N spans and the exact cost', async () => {
      const N = 4000;
      const config = kafkaTestConfig('kill9');
      const port = await freePort();
      const apiUrl = `http://127.0.0.1:${port}`;
      const env = {
        ...kafkaEnv(config),
        HM_DATA_DIR: tempDataDir('kill9'),
        HM_PORT: String(port),
        HM_BATCH_MAX_SPANS: '100',
      };
      const producer = testKafka().producer();
      await producer.connect();
      const requests = gpt4oRequests(N, 20, 16, 51);
      const send = (from: number, to: number) =>
        producer.send({
          topic: config.kafka.otlpSpansTopic,
          acks: -1,
          messages: requests
            .slice(from, to)
            .map((r) => ({ value: Buffer.from(encodeTraceRequestProtobuf(r)) })),
        });
      try {
        // The topics exist before the first enrich process: ensure them through a short-lived ingest stage.
        const ingest = await startKafkaPipeline(config, ['ingest'], silentLogger);
        await ingest.stop();
        await send(0, 40);
        let enrich = spawnStage('enrich', env);
        await waitFor(
          'the enrich process storing spans',
          async () => (await metric(apiUrl, 'spans_stored_total')) > 0,
          60_000,
          50,
        );
        await send(40, 100);
        enrich.kill('SIGKILL');
        await waitForExit(enrich);
        await send(100, 200);
        enrich = spawnStage('enrich', env);
        let seen: unknown;
        await waitForStage(
          enrich,
          'all spans stored',
          async () => {
            const t = await storedTotals(apiUrl);
            seen = t ?? seen;
            return t?.llm_calls === N;
          },
          120_000,
          1000,
        ).catch((err: unknown) => {
          throw new Error(
            `${err instanceof Error ? err.message : String(err)}\nlast totals: ${JSON.stringify(seen)}`,
          );
        });
        expect(await prRow(apiUrl, 51)).toMatchObject({
          llm_calls: N,
          cost_nanos: (BigInt(N) * GPT4O_SPAN_NANOS).toString(),
        });
        // SIGTERM: finishes, commits, leaves the group and exits 0 within the bound.
        const started = Date.now();
        enrich.kill('SIGTERM');
        expect(await waitForExit(enrich, 30_000)).toBe(0);
        console.log(`enrich stopped ${Date.now() - started} ms after SIGTERM`);
      } finally {
        await producer.disconnect();
      }
      // The stored rows themselves, read from the folder the enrich processes wrote: N distinct spans, no duplicate row.
      const client = await openStore({ kind: 'chdb', dataDir: env.HM_DATA_DIR });
      try {
        await migrateUp(client, config.database);
        const rs = await client.query({
          query: `SELECT count() AS n, uniqExact(TraceId, SpanId) AS u FROM ${config.database}.spans`,
          format: 'JSONEachRow',
        });
        expect(await rs.json()).toEqual([{ n: String(N), u: String(N) }]);
        const rows = await costPerPr(client, {
          db: config.database,
          since: new Date(Date.now() - 86_400_000),
          until: new Date(Date.now() + 60_000),
        });
        expect(rows.find((r) => r.pr === 51)?.cost_nanos).toBe(
          (BigInt(N) * GPT4O_SPAN_NANOS).toString(),
        );
      } finally {
        await client.close();
      }
    });

    it('ingest answers 503 with Retry-After while the broker is stopped, and a retrying client loses nothing', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'hm-kafka-503-'));
      const broker =
        execFileSync('bash', [BROKER_SCRIPT, 'start', '--dir', dir], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        })
          .trim()
          .split('\n')
          .at(-1) ?? '';
      try {
        const base = kafkaTestConfig('b503');
        const config = loadConfig({ ...kafkaEnv(base), HM_KAFKA_BROKERS: broker }, { port: 0 });
        const ingest = await startKafkaPipeline(config, ['ingest'], silentLogger);
        const url = `${ingest.receiver.url}/v1/traces`;
        const bodies = gpt4oRequests(30, 10, 3, 61).map((r) => JSON.stringify(r));
        const post = (body: string) =>
          fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        try {
          expect((await post(bodies[0]!)).status).toBe(200);
          execFileSync('bash', [BROKER_SCRIPT, 'stop', '--dir', dir]);
          const down = await post(bodies[1]!);
          expect(down.status).toBe(503);
          expect(down.headers.get('retry-after')).toBe('2');
          expect(((await down.json()) as { message: string }).message).toMatch(
            /Kafka did not accept the spans/,
          );
          execFileSync('bash', [BROKER_SCRIPT, 'start', '--dir', dir], { stdio: 'ignore' });
          // The client retries what was refused, as OTLP exporters do on 503.
          for (const body of bodies.slice(1))
            await waitFor(
              'a 200 after the broker is back',
              async () => (await post(body)).status === 200,
              60_000,
              500,
            );
        } finally {
          await ingest.stop();
        }
        const port = await freePort();
        const enrich = spawnStage('enrich', {
          ...kafkaEnv(config),
          HM_DATA_DIR: tempDataDir('b503'),
          HM_PORT: String(port),
        });
        await waitForStage(
          enrich,
          'all 30 spans stored',
          async () => (await storedTotals(`http://127.0.0.1:${port}`))?.llm_calls === 30,
          60_000,
          500,
        );
        expect((await prRow(`http://127.0.0.1:${port}`, 61))?.cost_nanos).toBe(
          (30n * GPT4O_SPAN_NANOS).toString(),
        );
        enrich.kill('SIGTERM');
        expect(await waitForExit(enrich, 30_000)).toBe(0);
      } finally {
        execFileSync('bash', [BROKER_SCRIPT, 'stop', '--dir', dir]);
      }
    });
  },
);
