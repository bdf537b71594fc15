import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/src/config.js';
import { startEmbedded, type RunningServer } from '../../pipeline/src/embedded.js';
import { silentLogger } from '../../pipeline/src/logger.js';
import { gatherStamp, normalizeRemote, stampRequest } from '../../pipeline/src/stamp-cli.js';
import { tempDataDir } from '../helpers/store.js';

const DB = 'hm_stamp';
let server: RunningServer;
beforeAll(async () => {
  server = await startEmbedded(
    loadConfig({}, { port: 0, dataDir: tempDataDir('stamp'), database: DB, batchMaxWaitMs: 10 }),
    silentLogger,
  );
});
afterAll(async () => {
  await server.stop();
});

const T = Date.now() - 3_600_000;
const apiRequest = (seq: number, ms: number): string =>
  JSON.stringify({
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }] },
        scopeLogs: [
          {
            logRecords: [
              {
                timeUnixNano: String(BigInt(ms) * 1_000_000n),
                body: { stringValue: 'claude_code.api_request' },
                attributes: Object.entries({
                  'session.id': 'cc-2',
                  'event.sequence': String(seq),
                  model: 'claude-sonnet-4-5',
                  input_tokens: '1000',
                  output_tokens: '100',
                  cache_read_tokens: '0',
                  cache_creation_tokens: '0',
                }).map(([key, v]) => ({ key, value: { stringValue: v } })),
              },
            ],
          },
        ],
      },
    ],
  });
const post = (body: string): Promise<Response> =>
  fetch(`${server.receiver.url}/v1/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });

describe('stamping a session with its repository, branch and PR (agents that do not stamp them)', () => {
  it('reads git in the hook folder and the session id a Claude Code hook passes on stdin', () => {
    const repo = mkdtempSync(join(tmpdir(), 'hm-git-'));
    const g = (...args: string[]): string =>
      execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();
    g('init', '-q', '-b', 'feat/stamp');
    g('-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-q', '--allow-empty', '-m', 'x');
    g('remote', 'add', 'origin', 'git@github.com:acme/api.git');
    const facts = gatherStamp({
      stdin: JSON.stringify({ session_id: 'cc-2', cwd: repo, hook_event_name: 'UserPromptSubmit' }),
      pr: '#42',
    });
    expect(facts).toMatchObject({
      session: 'cc-2',
      repositoryUrl: 'https://github.com/acme/api',
      branch: 'feat/stamp',
      pr: 42,
    });
    expect(facts.commit).toBe(g('rev-parse', 'HEAD'));
    expect(normalizeRemote('https://user:token@github.com/acme/api.git')).toBe(
      'https://github.com/acme/api',
    );
    expect(() => gatherStamp({ stdin: '', session: undefined })).toThrow(/No session id/);
  });

  it('attributes later events of the session, and splits a session that switched branch and PR', async () => {
    const stamp = (branch: string, pr: number, ms: number): string =>
      stampRequest(
        {
          session: 'cc-2',
          repositoryUrl: 'https://github.com/acme/api',
          branch,
          commit: 'abc',
          pr,
          team: 'payments',
        },
        new Date(ms),
      );
    expect((await post(apiRequest(1, T - 1000))).status).toBe(200); // before any stamp: unattributed
    expect((await post(stamp('feat/a', 5, T))).status).toBe(200);
    expect((await post(apiRequest(2, T + 1000))).status).toBe(200);
    expect((await post(stamp('feat/b', 6, T + 10_000))).status).toBe(200);
    expect((await post(apiRequest(3, T + 11_000))).status).toBe(200);
    expect((await post(apiRequest(4, T + 12_000))).status).toBe(200);
    const res = await fetch(`${server.receiver.url}/api/v1/reports/cost-per-pr?since=2d`);
    const rows = (
      (await res.json()) as { rows: { repo: string; pr: number | null; llm_calls: number }[] }
    ).rows;
    const calls = Object.fromEntries(rows.map((r) => [`${r.repo}#${r.pr ?? 'none'}`, r.llm_calls]));
    expect(calls).toEqual({
      'https://github.com/acme/api#5': 1,
      'https://github.com/acme/api#6': 2,
      '#none': 1,
    });
  });
});
