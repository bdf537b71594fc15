import { expect } from 'vitest';
import { loadConfig } from '../../pipeline/src/config.js';
import { startEmbedded, type RunningServer } from '../../pipeline/src/embedded.js';
import { silentLogger } from '../../pipeline/src/logger.js';
import { otlpJson, type SimpleSpan } from './otlp-json.js';
import { tempDataDir } from './store.js';

/** An embedded server on a free port with its own chDB folder, alerts off, batches flushed fast. */
export function startTestServer(label: string, database: string): Promise<RunningServer> {
  const config = loadConfig(
    { HM_ALERTS: 'off' },
    { port: 0, dataDir: tempDataDir(label), database, batchMaxWaitMs: 10 },
  );
  return startEmbedded(config, silentLogger);
}

/** Sends spans as OTLP/JSON to the server's receiver, expects 200, and waits until they are stored. */
export async function sendSpans(server: RunningServer, spans: SimpleSpan[]): Promise<void> {
  const res = await fetch(`${server.receiver.url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: otlpJson(spans),
  });
  expect(res.status).toBe(200);
  await server.sink.flush();
}

/** Rows of a query on the server's store (JSONEachRow). */
export async function queryRows<T>(server: RunningServer, query: string): Promise<T[]> {
  const rs = await server.client.query({ query, format: 'JSONEachRow' });
  return rs.json<T>();
}
