import { describe, expect, it } from 'vitest';
import { prelinkNow, type ClickHouseClient } from '@harness-meter/queries';
import { startDetectStage } from '../../pipeline/src/detect/index.js';
import { loadPriceBook } from '../../pipeline/src/price/index.js';
import { silentLogger } from '../../pipeline/src/logger.js';

/**
 * The catch-up a report waits for is bounded: a store fake lists `stale` sessions and holds every
 * session's span read until released, so the test sees whether catchUp() waited for the scans.
 */
function fakeStore(stale: number) {
  let release: () => void = () => undefined;
  const released = new Promise<void>((r) => (release = r));
  // A re-link pass (prelinkNow) reads the marks once they are let through: none.
  let letMarksThrough: () => void = () => undefined;
  const marks = new Promise<void>((r) => (letMarksThrough = r));
  let reads = 0;
  const client = {
    query: ({ query }: { query: string }) => {
      if (query.includes('link_dirty'))
        return Promise.resolve({ json: () => marks.then(() => []) });
      const isList = query.includes('session_scans') && query.includes('idle_ms');
      if (!isList) reads++;
      const body = isList
        ? Promise.resolve(
            Array.from({ length: stale }, (_, i) => ({ session_id: `s${String(i)}` })),
          )
        : released.then(() => []);
      return Promise.resolve({ json: () => body });
    },
  } as unknown as ClickHouseClient;
  return { client, release, letMarksThrough, reads: () => reads };
}

const book = loadPriceBook(undefined);
const settle = (ms: number) => new Promise<'timer'>((r) => setTimeout(() => r('timer'), ms));

describe('detect catch-up before reports', () => {
  it('waits for every scan when few sessions are stale', async () => {
    const store = fakeStore(2);
    const stage = startDetectStage(store.client, 'db', book, silentLogger, {
      intervalMs: 3_600_000,
      catchUpAllBelow: 2,
      catchUpWaitMs: 10,
    });
    const caught = stage.catchUp().then(() => 'caught-up' as const);
    expect(await Promise.race([caught, settle(100)])).toBe('timer');
    expect(store.reads()).toBe(1);
    store.release();
    expect(await caught).toBe('caught-up');
    await stage.stop();
    expect(store.reads()).toBe(2);
  });

  it('with a backlog, returns after the wait and scans on in the background', async () => {
    const store = fakeStore(3);
    const stage = startDetectStage(store.client, 'db', book, silentLogger, {
      intervalMs: 3_600_000,
      catchUpAllBelow: 2,
      catchUpWaitMs: 10,
      reportQuietMs: 0,
    });
    const caught = stage.catchUp().then(() => 'caught-up' as const);
    expect(await Promise.race([caught, settle(1_000)])).toBe('caught-up');
    expect(store.reads()).toBe(1); // the first session's read is still held
    // A report meanwhile does not queue another wait behind the round in progress.
    expect(await Promise.race([stage.catchUp().then(() => 'now' as const), settle(5)])).toBe('now');
    store.release();
    // The round goes on without anyone waiting: every stale session is read.
    await expect.poll(() => store.reads(), { timeout: 2_000 }).toBe(3);
    await stage.stop();
  });

  it('holds off scanning while the report that stopped waiting reads', async () => {
    const store = fakeStore(3);
    const stage = startDetectStage(store.client, 'db', book, silentLogger, {
      intervalMs: 3_600_000,
      catchUpAllBelow: 2,
      catchUpWaitMs: 10,
      reportQuietMs: 400,
    });
    const t0 = Date.now();
    await stage.catchUp();
    store.release();
    await settle(150);
    expect(store.reads()).toBe(1); // the report's quiet time: no new session read
    await expect.poll(() => store.reads(), { timeout: 3_000 }).toBe(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    await stage.stop();
  });

  it('holds off past the quiet time while a re-link (a linked report) still runs', async () => {
    const store = fakeStore(3);
    const stage = startDetectStage(store.client, 'db', book, silentLogger, {
      intervalMs: 3_600_000,
      catchUpAllBelow: 2,
      catchUpWaitMs: 10,
      reportQuietMs: 50,
      reportHoldMaxMs: 5_000,
    });
    await stage.catchUp();
    const pass = prelinkNow(store.client, 'db');
    store.release();
    await settle(400);
    expect(store.reads()).toBe(1); // the quiet time is over, but the re-link still runs
    store.letMarksThrough();
    await pass;
    await expect.poll(() => store.reads(), { timeout: 3_000 }).toBe(3);
    await stage.stop();
  });

  it('holds off for a running re-link at most reportHoldMaxMs', async () => {
    const store = fakeStore(3);
    const stage = startDetectStage(store.client, 'db', book, silentLogger, {
      intervalMs: 3_600_000,
      catchUpAllBelow: 2,
      catchUpWaitMs: 10,
      reportQuietMs: 50,
      reportHoldMaxMs: 300,
    });
    await stage.catchUp();
    const pass = prelinkNow(store.client, 'db');
    store.release();
    // Detection goes on although the re-link has not ended.
    await expect.poll(() => store.reads(), { timeout: 3_000 }).toBe(3);
    store.letMarksThrough();
    await pass;
    await stage.stop();
  });

  it('a stop ends the background round between sessions', async () => {
    const store = fakeStore(3);
    const stage = startDetectStage(store.client, 'db', book, silentLogger, {
      intervalMs: 3_600_000,
      catchUpAllBelow: 2,
      catchUpWaitMs: 10,
    });
    await stage.catchUp();
    expect(store.reads()).toBe(1);
    const stopped = stage.stop();
    store.release();
    await stopped;
    expect(store.reads()).toBe(1); // the rest stay stale, scanned after a restart
  });
});
