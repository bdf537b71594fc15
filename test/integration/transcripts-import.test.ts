import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/src/config.js';
import { startEmbedded, type RunningServer } from '../../pipeline/src/embedded.js';
import { silentLogger } from '../../pipeline/src/logger.js';
import { runTranscriptImport } from '../../pipeline/src/transcripts/cli.js';
import { freePort, reportRows, runCli } from '../helpers/cli.js';
import { tempDataDir } from '../helpers/store.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'transcripts');
const CLAUDE = join(FIXTURES, 'claude', 'projects');
const CODEX = join(FIXTURES, 'codex', 'sessions');
const GEMINI = join(FIXTURES, 'gemini', 'tmp');
const GEMINI_SESSION = '5a6b7c8d-1111-4222-8333-944455556666';
const WINDOW = ['--since', '2026-11-01', '--until', '2026-12-01'];

type Row = Record<string, unknown>;

describe('import claude-code on the data folder (no server), then the same folder again', () => {
  let env: Record<string, string>;
  const dir = mkdtempSync(join(tmpdir(), 'hm-import-'));
  const report = (...args: string[]): Row[] => {
    const r = runCli(['report', ...args, ...WINDOW, '--format', 'json'], env);
    expect(r.stderr).toBe('');
    return reportRows<Row>(r.stdout);
  };

  beforeAll(async () => {
    env = {
      HM_DATA_DIR: join(dir, 'data'),
      HM_IMPORT_STATE_FILE: join(dir, 'state.json'),
      HM_API_URL: `http://127.0.0.1:${await freePort()}`, // nobody listens: the CLI opens the folder
    };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stores each LLM call once, priced, by day, month, session and model', () => {
    const r = runCli(
      ['import', 'claude-code', CLAUDE, '--developer', 'ana@example.com', '--settle', '0'],
      env,
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/6 LLM call\(s\), 3 tool call\(s\) → 9 span\(s\)/);
    expect(r.stdout).toMatch(/1 malformed line/);
    expect(r.stdout).toContain('11111111-aaaa-4bbb-8ccc-000000000001.jsonl:8');

    const days = report('cost', '--by', 'day');
    expect(days.map((d) => [d.key, d.llm_calls, d.tool_calls])).toEqual(
      expect.arrayContaining([
        ['2026-11-20', 5, 3],
        ['2026-11-21', 1, 0],
      ]),
    );
    const nov20 = days.find((d) => d.key === '2026-11-20');
    // Anthropic's input excludes cache; stored input includes it: 14,012 + 14,630 + 2,008 + 16,005 + 2,008.
    expect(nov20).toMatchObject({ input_tokens: 48_663, output_tokens: 820, unpriced_calls: 0 });
    expect(BigInt(String(nov20?.cost_nanos))).toBeGreaterThan(0n);

    const [month] = report('cost', '--by', 'month');
    expect(month).toMatchObject({ key: '2026-11', llm_calls: 6 });
    const total = days.reduce((s, d) => s + BigInt(String(d.cost_nanos)), 0n);
    expect(BigInt(String(month?.cost_nanos))).toBe(total);
    const sessions = report('cost', '--by', 'session');
    expect(sessions.map((s) => s.key).sort()).toEqual([
      '11111111-aaaa-4bbb-8ccc-000000000001',
      '22222222-aaaa-4bbb-8ccc-000000000002',
    ]);
    const models = report('cost', '--by', 'model');
    // Tool calls have no model ('' key).
    expect(models.map((m) => m.key).sort()).toEqual([
      '',
      'claude-opus-4-1-20250805',
      'claude-sonnet-4-5-20250929',
    ]);
    const sources = report('cost', '--by', 'source');
    expect(sources.map((s) => s.key)).toEqual(['claude-code']);
  });

  it('groups the calls into 5-hour billing blocks', () => {
    const blocks = report('blocks');
    expect(blocks.map((b) => [b.block_start, b.llm_calls])).toEqual([
      ['2026-11-20T09:00:00.000Z', 5],
      ['2026-11-21T14:00:00.000Z', 1],
    ]);
    expect(blocks[0]?.active).toBe(false);
  });

  it('changes nothing when the same folder is imported again, with or without the import state', () => {
    const before = report('cost', '--by', 'session');
    const again = runCli(['import', 'claude-code', CLAUDE, '--settle', '0'], env);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/2 file\(s\) \(2 unchanged\), 0 new line\(s\)/);
    rmSync(env.HM_IMPORT_STATE_FILE ?? '', { force: true });
    const fresh = runCli(['import', 'claude-code', CLAUDE, '--settle', '0'], env);
    expect(fresh.status, fresh.stderr).toBe(0);
    expect(fresh.stdout).toMatch(/9 span\(s\)/); // read and sent again...
    expect(report('cost', '--by', 'session')).toEqual(before); // ...and dropped by the sink's id check
  });

  it('finds redundant tool calls in imported transcripts (same SDK hashes)', () => {
    const waste = report('waste', '--by', 'tool');
    expect(waste.map((w) => w.key)).toContain('Read');
  });
});

describe('import codex and gemini into a running server (POST /v1/traces)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startEmbedded(
      loadConfig(
        {},
        {
          port: 0,
          dataDir: tempDataDir('transcripts'),
          database: 'hm_transcripts',
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
  const costBySource = async (source: string): Promise<Row[]> => {
    const res = await fetch(
      `${server.receiver.url}/api/v1/reports/cost?by=source&since=2026-11-01&until=2026-12-01`,
    );
    return ((await res.json()) as { rows: Row[] }).rows.filter((r) => r.key === source);
  };

  it('sends the spans to the server, which prices and stores them once', async () => {
    const config = loadConfig({}, { apiUrl: server.receiver.url });
    const state = join(mkdtempSync(join(tmpdir(), 'hm-import-state-')), 'state.json');
    const env = { HM_IMPORT_STATE_FILE: state };
    let printed = '';
    const print = (s: string): void => {
      printed += s;
    };
    for (const dir of [CODEX, CODEX])
      await runTranscriptImport(
        config,
        { kind: 'codex', paths: [dir], developer: 'ana@example.com', settleSeconds: '0' },
        print,
        env,
      );
    expect(printed).toMatch(
      /import codex: .*2 LLM call\(s\), 2 tool call\(s\) → 4 span\(s\) sent to/,
    );
    await server.sink.flush();
    const [codex] = await costBySource('codex');
    expect(codex).toMatchObject({ llm_calls: 2, tool_calls: 2, input_tokens: 2500 });
  });

  it("leaves out a session the server already has from the agent's OpenTelemetry events", async () => {
    // Gemini CLI's own event for the same session (its session.id is the chat's sessionId).
    const event = {
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'gemini-cli' } }] },
          scopeLogs: [
            {
              logRecords: [
                {
                  timeUnixNano: String(Date.parse('2026-11-20T11:00:03.000Z') * 1_000_000),
                  body: { stringValue: 'gemini_cli.api_response' },
                  attributes: Object.entries({
                    'event.name': 'gemini_cli.api_response',
                    'session.id': GEMINI_SESSION,
                    model: 'gemini-2.5-pro',
                    input_token_count: '3000',
                    output_token_count: '100',
                    cached_content_token_count: '1000',
                    thoughts_token_count: '50',
                  }).map(([key, v]) => ({ key, value: { stringValue: v } })),
                },
              ],
            },
          ],
        },
      ],
    };
    const res = await fetch(`${server.receiver.url}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
    });
    expect(res.status).toBe(200);
    await server.sink.flush();
    let printed = '';
    await runTranscriptImport(
      loadConfig({}, { apiUrl: server.receiver.url }),
      { kind: 'gemini', paths: [GEMINI], settleSeconds: '0' },
      (s) => (printed += s),
      { HM_IMPORT_STATE_FILE: join(mkdtempSync(join(tmpdir(), 'hm-gem-')), 's.json') },
    );
    expect(printed).toContain(`1 session(s) left out`);
    expect(printed).toContain(GEMINI_SESSION);
    await server.sink.flush();
    const [gemini] = await costBySource('gemini-cli');
    expect(gemini).toMatchObject({ llm_calls: 1, tool_calls: 0, output_tokens: 150 }); // OTLP only
  });
});
