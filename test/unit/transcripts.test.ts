import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toSpanRecord, type RawSpanParts } from '../../pipeline/src/decode/index.js';
import type { SpanRecord } from '../../pipeline/src/model.js';
import { groupBlocks, type BlockCall } from '@harness-meter/queries';
import {
  importTranscripts,
  listTranscriptFiles,
  watchTranscripts,
  type ImportOptions,
  type ImportSummary,
} from '../../pipeline/src/transcripts/import.js';
import { BoundedSet, type TranscriptSource } from '../../pipeline/src/transcripts/common.js';
import { importProgress } from '../../pipeline/src/cli/import-commands.js';
import { PLAIN_PROGRESS_EVERY_MS } from '../../pipeline/src/cli/progress.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'transcripts');
const CLAUDE = join(FIXTURES, 'claude', 'projects');
const CODEX = join(FIXTURES, 'codex', 'sessions');
const GEMINI = join(FIXTURES, 'gemini', 'tmp');
const S1 = '11111111-aaaa-4bbb-8ccc-000000000001';
const S2 = '22222222-aaaa-4bbb-8ccc-000000000002';

async function run(
  source: TranscriptSource,
  paths: string[],
  extra: Partial<ImportOptions> = {},
): Promise<{ spans: RawSpanParts[]; records: SpanRecord[]; summary: ImportSummary }> {
  const spans: RawSpanParts[] = [];
  const summary = await importTranscripts({
    source,
    paths,
    stateFile: undefined,
    settleMs: 0,
    developer: 'ana@example.com',
    repoOf: (cwd) => (cwd === '/home/ana/src/api' ? 'https://github.com/acme/api' : undefined),
    send: (b) => {
      spans.push(...b);
      return Promise.resolve();
    },
    ...extra,
  });
  return { spans, records: spans.map((s) => toSpanRecord(s)), summary };
}

const llm = (rs: SpanRecord[]): SpanRecord[] => rs.filter((r) => r.spanType === 'llm');
const tools = (rs: SpanRecord[]): SpanRecord[] => rs.filter((r) => r.spanType === 'tool');
const byResponse = (rs: SpanRecord[], id: string): SpanRecord[] =>
  rs.filter((r) => r.spanAttributes['gen_ai.response.id'] === id);

describe('Claude Code transcripts', () => {
  it('counts a response written over several lines once, with its final usage', async () => {
    const { records } = await run('claude-code', [CLAUDE]);
    const m1 = byResponse(records, 'msg_01A');
    expect(m1).toHaveLength(1);
    expect(m1[0]).toMatchObject({
      outputTokens: 120, // the partial line said 5
      inputTokens: 12 + 10_000 + 4_000, // Anthropic's input excludes cache; ours includes it
      cacheReadTokens: 10_000,
      cacheWriteTokens: 4_000,
      cacheWrite5mTokens: 4_000,
      provider: 'anthropic',
      requestModel: 'claude-sonnet-4-5-20250929',
      source: 'claude-code',
      sessionId: S1,
      developer: 'ana@example.com',
      repo: 'https://github.com/acme/api',
      branch: 'feature/login',
    });
  });

  it('counts a message once across a resumed session file that copies it', async () => {
    const { records, summary } = await run('claude-code', [CLAUDE]);
    const calls = llm(records);
    expect(calls.map((r) => r.spanAttributes['gen_ai.response.id']).sort()).toEqual([
      'msg_01A',
      'msg_02B',
      'msg_03C',
      'msg_04D',
      'msg_05E',
      'msg_06F',
    ]);
    expect(byResponse(records, 'msg_02B')[0]?.sessionId).toBe(S1); // first seen
    expect(byResponse(records, 'msg_06F')[0]?.sessionId).toBe(S2);
    expect(summary.stats.duplicates).toBeGreaterThanOrEqual(3 + 1); // 3 copies + 1 sidechain replay
  });

  it('takes the branch per message, cache writes split by TTL, service tier and web searches', async () => {
    const [m2] = byResponse((await run('claude-code', [CLAUDE])).records, 'msg_02B');
    expect(m2).toMatchObject({
      branch: 'fix/redirect',
      cacheWrite5mTokens: 100,
      cacheWrite1hTokens: 500,
      cacheWriteTokens: 600,
    });
    expect(m2?.spanAttributes['harness_meter.service_tier']).toBe('standard');
    expect(m2?.spanAttributes['harness_meter.usage.web_search_requests']).toBe('1');
  });

  it('gives <synthetic> and API error entries no LLM call', async () => {
    const { records, summary } = await run('claude-code', [CLAUDE]);
    expect(byResponse(records, 'msg_syn')).toEqual([]);
    expect(byResponse(records, 'msg_err')).toEqual([]);
    expect(summary.stats.noUsage).toBeGreaterThanOrEqual(2);
  });

  it('keeps sidechain work in the parent session, marked as subagent; drops its replays', async () => {
    const { records } = await run('claude-code', [CLAUDE]);
    const [m3] = byResponse(records, 'msg_03C');
    expect(m3?.sessionId).toBe(S1);
    expect(m3?.spanAttributes['harness_meter.subagent']).toBe('true');
    expect(m3?.spanAttributes['harness_meter.subagent.id']).toBe('agent-7f3e');
    // The replay of msg_02B (new request id, sidechain) is not a second call.
    expect(byResponse(records, 'msg_02B')).toHaveLength(1);
    expect(byResponse(records, 'msg_02B')[0]?.spanAttributes['harness_meter.subagent']).toBe(
      undefined,
    );
  });

  it('turns tool_use blocks into tool spans with hashed arguments and no raw text', async () => {
    const { records, spans } = await run('claude-code', [CLAUDE]);
    const t = tools(records);
    expect(t.map((r) => r.toolName).sort()).toEqual(['Bash', 'Read', 'Read']);
    const reads = t.filter((r) => r.toolName === 'Read');
    expect(reads[0]?.argsHash).toMatch(/^[0-9a-f]{64}$/);
    expect(reads[0]?.argsHash).toBe(reads[1]?.argsHash); // the same read twice: a redundancy
    expect(reads[0]?.toolClass).toBe('read');
    expect(reads[0]?.resultBytes).toBeGreaterThan(0);
    expect(t.find((r) => r.toolName === 'Bash')?.isError).toBe(true);
    const text = JSON.stringify(spans, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    for (const secret of ['login.ts', 'return redirect', 'npm test', 'Fix the login'])
      expect(text).not.toContain(secret);
  });

  it('keeps tool arguments, redacted, only when asked', async () => {
    const { records } = await run('claude-code', [CLAUDE], { captureContent: true });
    const read = tools(records).find((r) => r.toolName === 'Read');
    expect(read?.spanAttributes['gen_ai.tool.call.arguments']).toContain('login.ts');
  });

  it('counts malformed lines with file and line, and goes on', async () => {
    const { summary, records } = await run('claude-code', [CLAUDE]);
    expect(summary.stats.malformed).toBe(1);
    expect(summary.issues[0]?.file).toContain(`${S1}.jsonl`);
    expect(summary.issues[0]?.line).toBe(8);
    expect(records.length).toBeGreaterThan(5);
  });

  it('gives every span an id derived from the message, the same on every run', async () => {
    const a = await run('claude-code', [CLAUDE]);
    const b = await run('claude-code', [CLAUDE]);
    expect(b.spans.map((s) => s.spanId).sort()).toEqual(a.spans.map((s) => s.spanId).sort());
    expect(new Set(a.spans.map((s) => `${s.traceId}:${s.spanId}`)).size).toBe(a.spans.length);
  });
});

describe('incremental import', () => {
  function copyClaude(): { dir: string; state: string; file: string } {
    const dir = mkdtempSync(join(tmpdir(), 'hm-transcripts-'));
    cpSync(CLAUDE, join(dir, 'projects'), { recursive: true });
    return {
      dir: join(dir, 'projects'),
      state: join(dir, 'state.json'),
      file: join(dir, 'projects', '-home-ana-src-api', `${S2}.jsonl`),
    };
  }

  it('reads nothing the second time, and only the new lines after an append', async () => {
    const { dir, state, file } = copyClaude();
    const first = await run('claude-code', [dir], { stateFile: state });
    expect(first.spans.length).toBeGreaterThan(0);
    const second = await run('claude-code', [dir], { stateFile: state });
    expect(second.spans).toEqual([]);
    expect(second.summary.unchanged).toBe(2);
    expect(second.summary.stats.lines).toBe(0);
    const line = JSON.parse(readFileSync(file, 'utf8').trim().split('\n').at(-1) ?? '{}') as {
      message: { id: string };
      requestId: string;
      timestamp: string;
    };
    line.message.id = 'msg_07G';
    line.requestId = 'req_07G';
    line.timestamp = '2026-11-21T15:00:00.000Z';
    appendFileSync(file, JSON.stringify(line) + '\n');
    const third = await run('claude-code', [dir], { stateFile: state });
    expect(third.summary.stats.lines).toBe(1);
    expect(third.records.map((r) => r.spanAttributes['gen_ai.response.id'])).toEqual(['msg_07G']);
  });

  it('holds back the last response of a file still being written, then takes its final usage', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-transcripts-'));
    const state = join(dir, 'state.json');
    const file = join(dir, 's.jsonl');
    const lines = readFileSync(join(CLAUDE, '-home-ana-src-api', `${S1}.jsonl`), 'utf8').split(
      '\n',
    );
    writeFileSync(file, lines.slice(0, 2).join('\n') + '\n'); // prompt + partial msg_01A
    const now = Date.now();
    const early = await run('claude-code', [file], {
      stateFile: state,
      settleMs: 60_000,
      now: () => now,
    });
    expect(early.spans).toEqual([]);
    expect(early.summary.active).toBe(1);
    appendFileSync(file, lines.slice(2, 4).join('\n') + '\n'); // final msg_01A + tool result
    const later = await run('claude-code', [file], { stateFile: state, settleMs: 0 });
    const [m1] = byResponse(later.records, 'msg_01A');
    expect(m1?.outputTokens).toBe(120);
    expect(tools(later.records)).toHaveLength(1);
  });

  it('keeps a Codex file context (model, totals) across runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-codex-'));
    const state = join(dir, 'state.json');
    const src = readFileSync(
      join(
        CODEX,
        '2026',
        '11',
        '20',
        'rollout-2026-11-20T10-00-00-0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b.jsonl',
      ),
      'utf8',
    ).split('\n');
    const file = join(dir, 'rollout.jsonl');
    writeFileSync(file, src.slice(0, 9).join('\n') + '\n');
    const a = await run('codex', [file], { stateFile: state });
    appendFileSync(file, src.slice(9).join('\n'));
    const b = await run('codex', [file], { stateFile: state });
    const calls = [...llm(a.records), ...llm(b.records)];
    expect(calls.map((c) => [c.inputTokens, c.cacheReadTokens, c.outputTokens])).toEqual([
      [1000, 200, 50],
      [1500, 800, 80],
    ]);
    expect(calls[1]?.requestModel).toBe('gpt-5-codex');
  });
});

describe('Codex rollouts', () => {
  it('uses increments of token_count, never a repeated total twice', async () => {
    const { records, summary } = await run('codex', [CODEX]);
    const calls = llm(records);
    expect(
      calls.map((c) => [c.inputTokens, c.cacheReadTokens, c.outputTokens, c.reasoningTokens]),
    ).toEqual([
      [1000, 200, 50, 20],
      [1500, 800, 80, 40],
    ]);
    expect(summary.stats.duplicates).toBe(1);
    expect(calls[0]).toMatchObject({
      provider: 'openai',
      requestModel: 'gpt-5-codex',
      sessionId: '0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
      branch: 'fix/redirect',
      commit: '4f2a9c1e0b7d3a5f6e8c9b0a1d2e3f4a5b6c7d8e',
      repo: 'git@github.com:acme/api.git',
      source: 'codex',
    });
  });

  it('maps function and custom tool calls with their outputs', async () => {
    const { records, summary } = await run('codex', [CODEX]);
    const t = tools(records);
    expect(t.map((r) => r.toolName)).toEqual(['shell', 'apply_patch']);
    // `bash -lc "rg -n redirect src"` is a search under the shell model (issue 13), not a generic exec.
    expect(t[0]?.toolClass).toBe('search');
    expect(t.every((r) => r.resultBytes > 0 && !r.isError)).toBe(true);
    expect(summary.issues.map((i) => i.line)).toEqual([11]);
  });
});

describe('Gemini CLI chat recordings', () => {
  it('takes the last record of each message, output + thoughts, and its tool calls', async () => {
    const { records, summary } = await run('gemini-cli', [GEMINI]);
    const calls = llm(records);
    expect(
      calls.map((c) => [c.inputTokens, c.cacheReadTokens, c.outputTokens, c.reasoningTokens]),
    ).toEqual([
      [3000, 1000, 150, 50],
      [4200, 3000, 420, 120],
    ]);
    expect(calls[0]).toMatchObject({
      provider: 'gcp.gemini',
      requestModel: 'gemini-2.5-pro',
      sessionId: '5a6b7c8d-1111-4222-8333-944455556666',
      source: 'gemini-cli',
    });
    expect(tools(records).map((r) => [r.toolName, r.toolClass])).toEqual([['read_file', 'read']]);
    expect(summary.issues.map((i) => i.line)).toEqual([8]);
  });

  it('reads the older one-document .json format', async () => {
    const lines = readFileSync(
      join(GEMINI, '9f86d081884c7d65', 'chats', 'session-2026-11-20T11-00-5a6b7c8d.jsonl'),
      'utf8',
    )
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const doc = { ...lines[0], messages: lines.slice(1).filter((l) => typeof l.id === 'string') };
    const chats = join(mkdtempSync(join(tmpdir(), 'hm-gemini-')), 'chats');
    mkdirSync(chats);
    writeFileSync(join(chats, 'session-old.json'), JSON.stringify(doc, null, 2));
    const { records } = await run('gemini-cli', [chats]);
    expect(llm(records).map((c) => c.outputTokens)).toEqual([150, 420]);
  });
});

describe('--watch', () => {
  it('follows new lines as the agent writes them, counting a response once it is complete', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-watch-'));
    const file = join(dir, 's.jsonl');
    const lines = readFileSync(join(CLAUDE, '-home-ana-src-api', `${S1}.jsonl`), 'utf8').split(
      '\n',
    );
    writeFileSync(file, lines.slice(0, 3).join('\n') + '\n'); // prompt, msg_01A partial and final
    const spans: RawSpanParts[] = [];
    const stop = new AbortController();
    let rounds = 0;
    const waitFor = async (ok: () => boolean): Promise<void> => {
      for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
      expect(ok()).toBe(true);
    };
    const watching = watchTranscripts(
      {
        source: 'claude-code',
        paths: [dir],
        stateFile: join(dir, 'state.json'),
        settleMs: 3_600_000, // never settles during the test: only a following message completes one
        repoOf: () => undefined,
        send: (b) => {
          spans.push(...b);
          return Promise.resolve();
        },
      },
      () => rounds++,
      stop.signal,
      20,
    );
    await waitFor(() => rounds >= 2);
    expect(spans).toEqual([]); // msg_01A may still be streaming
    appendFileSync(file, lines.slice(3, 5).join('\n') + '\n'); // tool result, msg_02B
    await waitFor(() => spans.length >= 2);
    stop.abort();
    await watching;
    const records = spans.map((s) => toSpanRecord(s));
    expect(byResponse(records, 'msg_01A').map((r) => r.outputTokens)).toEqual([120]);
    expect(tools(records).map((r) => r.toolName)).toEqual(['Read']);
    expect(byResponse(records, 'msg_02B')).toEqual([]); // the last one waits for what follows
  });
});

describe('5-hour billing blocks (ccusage rule)', () => {
  const H = 3_600_000;
  const T0 = Date.parse('2026-11-20T09:17:00.000Z');
  const call = (ms: number, cost = 1n): BlockCall => ({
    ms,
    model: 'claude-sonnet-4-5',
    input_tokens: 10,
    output_tokens: 1,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    cost_nanos: cost,
    unpriced: false,
  });

  it('starts a block at the hour of its first call and a new one 5 hours after that start', () => {
    const blocks = groupBlocks(
      [call(T0), call(T0 + 4 * H), call(T0 - 17 * 60_000 + 5 * H + 1), call(T0 + 2 * H)],
      T0 + 100 * H,
    );
    expect(blocks.map((b) => [b.block_start, b.llm_calls])).toEqual([
      ['2026-11-20T09:00:00.000Z', 3],
      ['2026-11-20T14:00:00.000Z', 1],
    ]);
    expect(blocks[0]?.block_end).toBe('2026-11-20T14:00:00.000Z');
    expect(blocks[0]?.cost_nanos).toBe('3');
  });

  it('starts a new block after more than 5 hours without calls, and marks the current one active', () => {
    const blocks = groupBlocks([call(T0), call(T0 + 6 * H)], T0 + 6 * H + 60_000);
    expect(blocks.map((b) => [b.block_start, b.active])).toEqual([
      ['2026-11-20T09:00:00.000Z', false],
      ['2026-11-20T15:00:00.000Z', true],
    ]);
  });
});

describe('file order', () => {
  it("reads a session's file right before its subagents' folder", () => {
    const root = mkdtempSync(join(tmpdir(), 'hm-order-'));
    for (const f of ['p/s1-x.jsonl', 'p/s1/subagents/agent-a.jsonl', 'p/s1.jsonl', 'p/s0.jsonl']) {
      mkdirSync(dirname(join(root, f)), { recursive: true });
      writeFileSync(join(root, f), '');
    }
    expect(listTranscriptFiles('claude-code', [root]).map((f) => f.slice(root.length + 1))).toEqual(
      ['p/s0.jsonl', 'p/s1.jsonl', 'p/s1/subagents/agent-a.jsonl', 'p/s1-x.jsonl'],
    );
  });
});

describe('Claude Code costUSD (older versions)', () => {
  it('keeps the cost Claude Code wrote as the reported cost, beside the computed one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-cost-'));
    const line = {
      type: 'assistant',
      sessionId: 's-old',
      timestamp: '2025-06-01T10:00:00.000Z',
      requestId: 'req_old',
      costUSD: 0.0123,
      message: {
        id: 'msg_old',
        model: 'claude-sonnet-4-20250514',
        content: [],
        usage: { input_tokens: 10, output_tokens: 20 },
      },
    };
    writeFileSync(join(dir, 's-old.jsonl'), JSON.stringify(line) + '\n');
    const { records } = await run('claude-code', [dir]);
    expect(records.map((r) => r.reportedCostNanos)).toEqual([12_300_000n]);
  });
});

describe('BoundedSet', () => {
  it('remembers at least the last max/2 keys and never more than max', () => {
    const s = new BoundedSet(10);
    for (let i = 0; i < 100; i++) s.add(`k${i}`);
    for (let i = 95; i < 100; i++) expect(s.has(`k${i}`)).toBe(true);
    expect([...Array(100).keys()].filter((i) => s.has(`k${i}`)).length).toBeLessThanOrEqual(10);
    expect(s.has('k0')).toBe(false);
  });
});

describe('import progress (issue 14)', () => {
  it('tells files done of those found and lines read, ending at the summary', async () => {
    const seen: { filesDone: number; filesTotal: number; lines: number }[] = [];
    const { summary } = await run('claude-code', [CLAUDE], { onProgress: (p) => seen.push(p) });
    expect(summary.files).toBe(2);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((p) => p.filesTotal === 2 && p.filesDone <= 2)).toBe(true);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]?.filesDone).toBeGreaterThanOrEqual(seen[i - 1]?.filesDone ?? 0);
      expect(seen[i]?.lines).toBeGreaterThanOrEqual(seen[i - 1]?.lines ?? 0);
    }
    expect(seen.at(-1)).toEqual({ filesDone: 2, filesTotal: 2, lines: summary.stats.lines });
    expect(summary.stats.lines).toBeGreaterThan(0);
  });

  it('prints a plain line at most every few seconds when stderr is not a terminal', () => {
    const err: string[] = [];
    let t = 1_000;
    const io = { out: () => undefined, err: (s: string) => err.push(s), isTty: false, env: {} };
    const progress = importProgress(io, 'codex', false, () => t);
    progress.update({ filesDone: 0, filesTotal: 3, lines: 0 });
    t += PLAIN_PROGRESS_EVERY_MS - 1;
    progress.update({ filesDone: 1, filesTotal: 3, lines: 500 });
    expect(err).toEqual([]);
    t += 1;
    progress.update({ filesDone: 1, filesTotal: 3, lines: 1234 });
    t += 10;
    progress.update({ filesDone: 2, filesTotal: 3, lines: 2000 });
    t += PLAIN_PROGRESS_EVERY_MS;
    progress.update({ filesDone: 2, filesTotal: 3, lines: 4321 });
    progress.stop();
    t += PLAIN_PROGRESS_EVERY_MS;
    progress.update({ filesDone: 3, filesTotal: 3, lines: 5000 });
    expect(err).toEqual([
      'import codex: 1 of 3 files, 1,234 lines\n',
      'import codex: 2 of 3 files, 4,321 lines\n',
    ]);
  });
});
