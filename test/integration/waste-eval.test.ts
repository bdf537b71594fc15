/**
 * The in-harness check and the stored findings agree, through the real pipeline: corpus sessions
 * played through the SDK, exported over OTLP/HTTP (protobuf) to the embedded server (chDB), scanned
 * by the detect stage and read back with `waste --by call`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { loadConfig } from '../../pipeline/src/config.js';
import { startEmbedded, type RunningServer } from '../../pipeline/src/embedded.js';
import { silentLogger } from '../../pipeline/src/logger.js';
import { heldOutScripts } from '../fixtures/waste-eval/heldout.js';
import { play, type Played } from '../fixtures/waste-eval/play.js';
import { tempDataDir } from '../helpers/store.js';

let server: RunningServer;
beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  server = await startEmbedded(
    loadConfig(
      {},
      {
        port: 0,
        dataDir: tempDataDir('waste-eval'),
        database: 'hm_waste_eval',
        batchMaxWaitMs: 10,
        detectIdleMs: 3_600_000,
      },
    ),
    silentLogger,
  );
});
afterAll(async () => {
  await server.stop();
});

describe('waste corpus through the embedded server', () => {
  it('stores the same findings the SDK reports in the harness, call by call', async () => {
    // one session of each held-out template (15 sessions, every agent)
    const scripts = heldOutScripts().filter((s) => s.id.endsWith('1'));
    const played: Played[] = [];
    for (const s of scripts) {
      const otlp = new BatchSpanProcessor(
        new OTLPTraceExporter({ url: `${server.receiver.url}/v1/traces` }),
      );
      played.push(await play(s, otlp));
    }
    const res = await fetch(`${server.receiver.url}/api/v1/reports/waste?by=call`);
    const rows = ((await res.json()) as { rows: Record<string, unknown>[] }).rows;
    let compared = 0;
    for (const p of played) {
      const stored = new Map(
        rows.filter((r) => r.session_id === p.script.id).map((r) => [r.span_id, r.kind]),
      );
      for (const [callId, spanId] of p.spanIds) {
        expect(stored.get(spanId), callId).toBe(p.inHarness.get(callId));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(100);
    expect(rows.length).toBeGreaterThanOrEqual(played.reduce((n, p) => n + p.inHarness.size, 0));
  });
});
