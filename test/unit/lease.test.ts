import { describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '@harness-meter/queries';
import { startAlertStage } from '../../pipeline/src/alerts/runner.js';
import {
  createLease,
  type Lease,
  type LeaseRecord,
  type LeaseStore,
} from '../../pipeline/src/kafka/lease.js';

/** A lease table in memory: the highest version wins, the last write on a tie (as FINAL reads it). */
function memoryStore(): LeaseStore & { rows: LeaseRecord[]; down: boolean } {
  const s = {
    rows: [] as LeaseRecord[],
    down: false,
    read(name: string): Promise<LeaseRecord | undefined> {
      void name;
      if (s.down) return Promise.reject(new Error('store down'));
      let best: LeaseRecord | undefined;
      for (const r of s.rows) if (!best || r.version >= best.version) best = r;
      return Promise.resolve(best);
    },
    write(name: string, r: LeaseRecord): Promise<void> {
      void name;
      if (s.down) return Promise.reject(new Error('store down'));
      s.rows.push(r);
      return Promise.resolve();
    },
  };
  return s;
}

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

const TTL = 10_000;

function lease(
  store: LeaseStore,
  holder: string,
  c: ReturnType<typeof clock>,
  extra: { changes?: boolean[] } = {},
): Lease {
  return createLease(store, {
    name: 'leader',
    holder,
    ttlMs: TTL,
    settleMs: 500,
    marginMs: 2000,
    now: c.now,
    sleep: (ms) => {
      c.advance(ms);
      return Promise.resolve();
    },
    onChange: (h) => void extra.changes?.push(h),
  });
}

describe('leader lease', () => {
  it('acquires a free lease, and a second process sees it held', async () => {
    const store = memoryStore();
    const c = clock();
    const changes: boolean[] = [];
    const a = lease(store, 'a', c, { changes });
    const b = lease(store, 'b', c);
    expect(await a.tick()).toBe(true);
    expect(a.held()).toBe(true);
    expect(changes).toEqual([true]);
    expect(await b.tick()).toBe(false);
    expect(b.held()).toBe(false);
    expect(b.holderSeen()).toBe('a');
  });

  it('renews before expiry, so the holder keeps it past one TTL and no one takes over', async () => {
    const store = memoryStore();
    const c = clock();
    const a = lease(store, 'a', c);
    const b = lease(store, 'b', c);
    await a.tick();
    for (let i = 0; i < 5; i++) {
      c.advance(TTL / 3);
      expect(await a.tick()).toBe(true);
      expect(await b.tick()).toBe(false);
    }
    expect(store.rows.every((r) => r.holder === 'a')).toBe(true);
  });

  it('a holder that stops renewing steps down before its record expires; then another takes over', async () => {
    const store = memoryStore();
    const c = clock();
    const changes: boolean[] = [];
    const a = lease(store, 'a', c, { changes });
    const b = lease(store, 'b', c);
    await a.tick();
    c.advance(TTL - 2000); // the margin: a stops acting while its record still holds
    expect(a.held()).toBe(false);
    expect(await b.tick()).toBe(false);
    c.advance(2001);
    expect(await b.tick()).toBe(true);
    // a comes back (a long pause): it sees b and does not claim.
    expect(await a.tick()).toBe(false);
    expect(changes).toEqual([true, false]);
  });

  it('two processes claiming an expired lease at once: one wins, and both agree which', async () => {
    const store = memoryStore();
    const c = clock();
    const a = lease(store, 'a', c);
    const b = lease(store, 'b', c);
    store.rows.push({ holder: 'gone', expiresAtMs: c.now() - 1, version: c.now() - TTL });
    // Both read the expired lease before either writes, so both claim.
    const [aHeld, bHeld] = await Promise.all([a.tick(), b.tick()]);
    expect(store.rows.map((r) => r.holder)).toEqual(['gone', 'a', 'b']);
    expect([aHeld, bHeld].filter(Boolean)).toHaveLength(1);
    expect(a.holderSeen()).toBe(b.holderSeen());
    expect(a.held()).toBe(a.holderSeen() === 'a');
  });

  it('release writes an expired record so another process takes over at once', async () => {
    const store = memoryStore();
    const c = clock();
    const a = lease(store, 'a', c);
    const b = lease(store, 'b', c);
    await a.tick();
    expect(await b.tick()).toBe(false);
    await a.release();
    expect(a.held()).toBe(false);
    expect(await a.tick()).toBe(false); // released: never claims again
    expect(await b.tick()).toBe(true);
  });

  it('store unreachable: a holder keeps acting only until its deadline, and regains it after', async () => {
    const store = memoryStore();
    const c = clock();
    const a = lease(store, 'a', c);
    await a.tick();
    store.down = true;
    c.advance(TTL / 3);
    expect(await a.tick()).toBe(true);
    c.advance(TTL);
    expect(await a.tick()).toBe(false);
    store.down = false;
    expect(await a.tick()).toBe(true);
  });
});

describe('alert stage behind the lease', () => {
  it('runs timed rounds only while leading', async () => {
    let rounds = 0;
    let leading = false;
    const stage = startAlertStage(
      {
        client: {} as ClickHouseClient, // never reached: each round stops at beforeEvaluate
        db: 'x',
        rules: [],
        beforeEvaluate: () => {
          rounds++;
          return Promise.reject(new Error('stop here'));
        },
      },
      { intervalMs: 1, pollMs: 5, leading: () => leading },
    );
    try {
      await new Promise((r) => setTimeout(r, 60));
      expect(rounds).toBe(0);
      leading = true;
      await new Promise((r) => setTimeout(r, 200));
      expect(rounds).toBeGreaterThan(0);
      leading = false;
      await new Promise((r) => setTimeout(r, 20));
      const before = rounds;
      await new Promise((r) => setTimeout(r, 60));
      expect(rounds).toBe(before);
    } finally {
      await stage.stop();
    }
  });
});
