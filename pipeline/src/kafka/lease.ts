import { silentLogger, type Logger } from '../logger.js';

/** The lease as stored: who holds it, until when (ms since the epoch), and the write's version. */
export interface LeaseRecord {
  holder: string;
  expiresAtMs: number;
  version: number;
}

/** Where leases live (a ClickHouse table in production, a map in the unit tests). */
export interface LeaseStore {
  /** The newest record of the lease, or undefined when it was never written. */
  read(name: string): Promise<LeaseRecord | undefined>;
  /** Writes a new record; the highest version wins (on a tie, the last write). */
  write(name: string, record: LeaseRecord): Promise<void>;
}

export interface LeaseOptions {
  name: string;
  /** This process's id in the lease (host, pid and a random suffix). */
  holder: string;
  /** A record lasts this long without a renewal. @default 15000 */
  ttlMs?: number;
  /** Renew (or try to take over) this often. @default ttlMs / 3 */
  renewEveryMs?: number;
  /**
   * After claiming a free or expired lease, wait this long before reading it back, so a rival
   * claim written at about the same time is seen and one of the two wins for both. @default 500
   */
  settleMs?: number;
  /**
   * Stop acting as holder this long before the record expires: covers clock skew between the
   * processes and the time a renewal takes. @default ttlMs / 5
   */
  marginMs?: number;
  /** Called when this process gains or loses the lease (after the change). */
  onChange?: (held: boolean) => void | Promise<void>;
  logger?: Logger;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** A lease one process of several holds at a time, with expiry, renewal, takeover and release. */
export interface Lease {
  /** One round: claims a free or expired lease, renews a held one; resolves whether it is held now. */
  tick(): Promise<boolean>;
  /** Whether this process may act as holder now (its renewal has not lapsed). */
  held(): boolean;
  /** The holder the last read showed ('' before the first read). */
  holderSeen(): string;
  /** Ticks every renewEveryMs until release(). */
  start(): void;
  /** Stops ticking and, if held, writes an expired record so another process takes over at once. */
  release(): Promise<void>;
}

export const LEASE_DEFAULTS = { ttlMs: 15_000, settleMs: 500 } as const;

/**
 * Creates a lease over `store`. ClickHouse has no compare-and-set, so a claim is made safe by
 * reading back after `settleMs`: two processes that both found the lease free both write, and both
 * read the same winner (the higher version). A holder renews long before expiry and stops acting
 * `marginMs` before its record expires, so a holder that cannot renew (store down, process paused)
 * has stepped down before another can take over.
 */
export function createLease(store: LeaseStore, options: LeaseOptions): Lease {
  const ttlMs = options.ttlMs ?? LEASE_DEFAULTS.ttlMs;
  const renewEveryMs = options.renewEveryMs ?? Math.floor(ttlMs / 3);
  const settleMs = options.settleMs ?? LEASE_DEFAULTS.settleMs;
  const marginMs = options.marginMs ?? Math.floor(ttlMs / 5);
  const now = options.now ?? Date.now;
  const sleep =
    options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref()));
  const log = options.logger ?? silentLogger;
  const me = options.holder;
  let heldUntil = 0;
  let lastVersion = 0;
  let seen = '';
  let wasHeld = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<boolean> | undefined;
  let released = false;

  const held = (): boolean => heldUntil > now();

  async function notify(): Promise<void> {
    const h = held();
    if (h === wasHeld) return;
    wasHeld = h;
    log.info(h ? 'lease acquired' : 'lease lost', { lease: options.name, holder: me });
    try {
      await options.onChange?.(h);
    } catch (err) {
      log.warn('lease change handler failed', {
        lease: options.name,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  async function round(): Promise<boolean> {
    try {
      const current = await store.read(options.name);
      const at = now();
      seen = current?.holder ?? '';
      if (current) lastVersion = Math.max(lastVersion, current.version);
      if (current && current.holder !== me && current.expiresAtMs > at) {
        heldUntil = 0; // someone else holds it (or took it over while this process was paused)
      } else {
        const renewal = current?.holder === me && current.expiresAtMs > at;
        const record = {
          holder: me,
          expiresAtMs: at + ttlMs,
          version: Math.max(at, lastVersion + 1),
        };
        await store.write(options.name, record);
        lastVersion = record.version;
        if (renewal) {
          heldUntil = record.expiresAtMs - marginMs;
        } else {
          await sleep(settleMs);
          const after = await store.read(options.name);
          seen = after?.holder ?? '';
          if (after) lastVersion = Math.max(lastVersion, after.version);
          heldUntil =
            after?.holder === me && after.version === record.version
              ? record.expiresAtMs - marginMs
              : 0;
        }
      }
    } catch (err) {
      // The store is unreachable: a held lease lapses at its deadline; nothing else changes.
      log.warn('lease round failed', {
        lease: options.name,
        error: err instanceof Error ? err.message : String(err),
      });
    }
    await notify();
    return held();
  }

  const tick = (): Promise<boolean> => {
    if (released) return Promise.resolve(false);
    // Rounds never overlap: a caller arriving during one shares its answer.
    running ??= round().finally(() => (running = undefined));
    return running;
  };

  return {
    tick,
    held,
    holderSeen: () => seen,
    start() {
      if (timer !== undefined || released) return;
      timer = setInterval(() => void tick(), renewEveryMs);
      timer.unref();
    },
    async release() {
      released = true;
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await running;
      if (!held()) return;
      heldUntil = 0;
      try {
        await store.write(options.name, {
          holder: me,
          expiresAtMs: 0,
          version: Math.max(now(), lastVersion + 1),
        });
      } catch (err) {
        log.warn('lease release failed; it expires on its own', {
          lease: options.name,
          error: err instanceof Error ? err.message : String(err),
        });
      }
      await notify();
    },
  };
}
