import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClickHouseClient } from '@harness-meter/queries';
import {
  deliverWebhook,
  nextRoundDue,
  parseRules,
  startAlertStage,
} from '../../pipeline/src/alerts/index.js';

/**
 * A store that answers every query with no rows after `delayMs` of (fake) time, counting queries
 * and how many run at once. Inserts are counted too (a stopped stage must not write).
 */
function fakeStore(delayMs = 0) {
  const stats = { queries: 0, inserts: 0, concurrent: 0, maxConcurrent: 0 };
  const client = {
    query: async () => {
      stats.queries++;
      stats.concurrent++;
      stats.maxConcurrent = Math.max(stats.maxConcurrent, stats.concurrent);
      await new Promise((r) => setTimeout(r, delayMs));
      stats.concurrent--;
      return { json: async () => [] };
    },
    insert: async () => {
      stats.inserts++;
    },
  } as unknown as ClickHouseClient;
  return { client, stats };
}

// One budget rule: a round is one spend query, then the alert states query.
const rules = parseRules({
  rules: [{ id: 'b', type: 'budget', scope: 'developer', period: 'day', limitUsd: '10' }],
});
const QUERIES_PER_ROUND = 2;

afterEach(() => {
  vi.useRealTimers();
});

describe('alert rounds on a schedule', () => {
  it('the next round is due minInterval after the last start when spans arrived, interval otherwise', () => {
    const o = { intervalMs: 10_000, minIntervalMs: 2_000 };
    expect(nextRoundDue(50_000, true, o)).toBe(52_000);
    expect(nextRoundDue(50_000, false, o)).toBe(60_000);
    // The minimum never stretches the regular interval.
    expect(nextRoundDue(0, true, { intervalMs: 1_000, minIntervalMs: 5_000 })).toBe(1_000);
  });

  it('spans stored every 50 ms start a round at most every minIntervalMs, not per batch', async () => {
    vi.useFakeTimers();
    const { client, stats } = fakeStore();
    let batches = 0;
    const ingest = setInterval(() => batches++, 50);
    const stage = startAlertStage(
      { client, db: 'hm', rules },
      { intervalMs: 10_000, minIntervalMs: 2_000, pollMs: 100, changes: () => batches },
    );
    await vi.advanceTimersByTimeAsync(20_000);
    clearInterval(ingest);
    // 400 stored batches in 20 s: one round at the start, then one per 2 s (10-11 in all).
    expect(batches).toBe(400);
    expect(stage.rounds()).toBeGreaterThanOrEqual(10);
    expect(stage.rounds()).toBeLessThanOrEqual(11);
    expect(stats.queries).toBe(stage.rounds() * QUERIES_PER_ROUND);
    // No new spans: back to one round per interval.
    const before = stage.rounds();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(stage.rounds() - before).toBe(3);
    await stage.stop();
  });

  it('a slow round is never overlapped: triggers during it coalesce into one next round', async () => {
    vi.useFakeTimers();
    const { client, stats } = fakeStore(3_000); // each query 3 s: a round takes 6 s
    let batches = 0;
    const ingest = setInterval(() => batches++, 10);
    const stage = startAlertStage(
      { client, db: 'hm', rules },
      { intervalMs: 10_000, minIntervalMs: 1_000, pollMs: 100, changes: () => batches },
    );
    await vi.advanceTimersByTimeAsync(30_100);
    clearInterval(ingest);
    expect(stats.maxConcurrent).toBe(1);
    // Back to back, 6 s each (plus a poll tick): 5 rounds in 30 s, not one per trigger.
    expect(stage.rounds()).toBe(5);
    await vi.advanceTimersByTimeAsync(10_000);
    await stage.stop();
  });

  it('stop() aborts the round in flight at its next query and writes nothing afterwards', async () => {
    vi.useFakeTimers();
    const { client, stats } = fakeStore(5_000);
    const stage = startAlertStage(
      { client, db: 'hm', rules },
      { intervalMs: 10_000, minIntervalMs: 1_000, pollMs: 100, changes: () => 1 },
    );
    await vi.advanceTimersByTimeAsync(200); // the first round's spend query is running
    expect(stats.queries).toBe(1);
    const stopped = stage.stop();
    await vi.advanceTimersByTimeAsync(5_000); // that query finishes; nothing follows it
    await stopped;
    expect(stats.queries).toBe(1);
    expect(stats.inserts).toBe(0);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(stage.rounds()).toBe(1);
    // An on-demand check after stop is refused instead of touching a closing store.
    await expect(stage.check()).rejects.toThrow('alert stage stopped');
  });

  it('an aborted webhook delivery stops retrying and leaves the notice pending (unrecorded)', async () => {
    const abort = new AbortController();
    const recorded: string[] = [];
    let calls = 0;
    const attempts = await deliverWebhook(
      { url: 'http://127.0.0.1:9/hook', secret: undefined },
      '{}',
      'n1',
      {
        fetch: async () => {
          calls++;
          return new Response('busy', { status: 503 });
        },
        sleep: () => {
          abort.abort(); // shutdown arrives during the backoff
          return new Promise(() => undefined); // a backoff that would never end by itself
        },
        signal: abort.signal,
        onAttempt: async (a) => void recorded.push(a.status),
      },
    );
    expect(calls).toBe(1);
    expect(attempts.map((a) => a.status)).toEqual(['retrying']);
    expect(recorded).toEqual(['retrying']);
  });
});
