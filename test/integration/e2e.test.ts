import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTLPTraceExporter as OTLPProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  createHarnessTracer,
  SessionSpanProcessor,
  startTelemetry,
} from '@harness-meter/instrumentation';
import { costBy, costPerPr, defaultWindow } from '@harness-meter/queries';
import { loadConfig } from '../../pipeline/src/config.js';
import { startEmbedded, type RunningServer } from '../../pipeline/src/embedded.js';
import { silentLogger } from '../../pipeline/src/logger.js';
import { tempDataDir } from '../helpers/store.js';

const DB = 'hm_e2e';
let server: RunningServer;

beforeAll(async () => {
  server = await startEmbedded(
    loadConfig({}, { port: 0, dataDir: tempDataDir('e2e'), database: DB, batchMaxWaitMs: 10 }),
    silentLogger,
  );
});
afterAll(async () => {
  await server.stop();
});

describe('end to end: SDK in the harness → OTLP/HTTP receiver → price → ClickHouse (chDB) → reports', () => {
  it('reports exactly the hand-computed tokens and cost (two models, cache reads and writes, two PRs, one unpriced model)', async () => {
    const endpoint = `${server.receiver.url}/v1/traces`;

    // Session A through startTelemetry: NodeSDK + OTLP/HTTP JSON exporter, as a harness would use it.
    const tel = startTelemetry({ serviceName: 'e2e-harness', endpoint });
    await tel.withSession(
      {
        sessionId: 'sess-a',
        developer: 'ana',
        team: 'payments',
        repositoryUrl: 'https://github.com/acme/api',
        branch: 'fix/a',
        pr: 7,
      },
      async () => {
        await tel.llmCall({ provider: 'anthropic', model: 'claude-sonnet-4-5' }, async () => ({
          model: 'claude-sonnet-4-5-20250929',
          usage: {
            input_tokens: 1000,
            output_tokens: 500,
            cache_read_input_tokens: 20_000,
            cache_creation_input_tokens: 4000,
            cache_creation: { ephemeral_5m_input_tokens: 3000, ephemeral_1h_input_tokens: 1000 },
          },
        }));
        await tel.toolCall({ name: 'Read', args: { file_path: 'src/a.ts' } }, async () =>
          'x'.repeat(400),
        );
        await tel.llmCall({ provider: 'openai', model: 'gpt-4o' }, async () => ({
          model: 'gpt-4o-2024-08-06',
          usage: {
            prompt_tokens: 8000,
            completion_tokens: 600,
            prompt_tokens_details: { cached_tokens: 6000 },
          },
        }));
      },
    );
    await tel.shutdown();

    // Session B through a harness's own provider with the OTLP/HTTP protobuf exporter: the other encoding.
    const provider = new BasicTracerProvider({
      spanProcessors: [
        new SessionSpanProcessor(),
        new BatchSpanProcessor(new OTLPProtoTraceExporter({ url: endpoint })),
      ],
    });
    const hm = createHarnessTracer({ tracer: provider.getTracer('e2e-proto') });
    await hm.withSession(
      {
        sessionId: 'sess-b',
        developer: 'ben',
        team: 'web',
        repositoryUrl: 'https://github.com/acme/api',
        branch: 'feat/b',
        pr: 8,
      },
      async () => {
        await hm.llmCall({ provider: 'openai', model: 'gpt-4o' }, async () => ({
          usage: { prompt_tokens: 3000, completion_tokens: 200 },
        }));
        await hm.llmCall({ provider: 'openai', model: 'acme-local-7b' }, async () => ({
          usage: { prompt_tokens: 1000, completion_tokens: 100 },
        }));
      },
    );
    await provider.shutdown();
    await server.sink.flush();

    const rows = await costPerPr(server.client, { db: DB, ...defaultWindow() });
    // PR 7 by hand ($/MTok → nano-USD per token: Sonnet 4.5 in 3000, read 300, 5m write 3750, 1h write 6000, out 15000;
    // gpt-4o in 2500, cached 1250, out 10000):
    //   Sonnet: fresh 1,000 × 3,000 + 20,000 × 300 + 3,000 × 3,750 + 1,000 × 6,000 + 500 × 15,000 = 33,750,000
    //   gpt-4o: fresh 2,000 × 2,500 + 6,000 × 1,250 + 600 × 10,000                                   = 18,500,000
    expect(rows.find((r) => r.pr === 7)).toEqual(
      expect.objectContaining({
        repo: 'https://github.com/acme/api',
        sessions: 1,
        llm_calls: 2,
        tool_calls: 1,
        input_tokens: 25_000 + 8000,
        output_tokens: 1100,
        cache_read_tokens: 26_000,
        cache_write_tokens: 4000,
        cost_nanos: '52250000',
        cost_usd: 0.05225,
        unpriced_calls: 0,
      }),
    );
    // PR 8: gpt-4o 3,000 × 2,500 + 200 × 10,000 = 9,500,000; the local model is unpriced, not $0.
    expect(rows.find((r) => r.pr === 8)).toEqual(
      expect.objectContaining({
        sessions: 1,
        llm_calls: 2,
        tool_calls: 0,
        input_tokens: 4000,
        output_tokens: 300,
        cost_nanos: '9500000',
        unpriced_calls: 1,
      }),
    );

    const byDeveloper = await costBy(server.client, {
      db: DB,
      by: 'developer',
      ...defaultWindow(),
    });
    expect(byDeveloper.map((r) => [r.key, r.cost_nanos])).toEqual([
      ['ana', '52250000'],
      ['ben', '9500000'],
    ]);

    // Each stored cost names the price row that produced it; the agent span is kept as context.
    const rs = await server.client.query({
      query: `SELECT span_type, model, price_id, toString(cost_nanos) AS cost FROM ${DB}.spans FINAL ORDER BY Timestamp`,
      format: 'JSONEachRow',
    });
    const stored = await rs.json<{
      span_type: string;
      model: string;
      price_id: string;
      cost: string | null;
    }>();
    expect(stored.filter((s) => s.span_type === 'agent')).toHaveLength(2);
    expect(stored.find((s) => s.model === 'claude-sonnet-4-5-20250929')).toMatchObject({
      price_id: 'genai-prices:anthropic:claude-sonnet-4-5@-',
      cost: '33750000',
    });
    expect(stored.find((s) => s.model === 'acme-local-7b')).toMatchObject({
      price_id: '',
      cost: null,
    });
  });
});
