/**
 * A Bloom filter over span keys: "definitely never stored" or "maybe stored". The sink asks the store
 * only about the "maybe" keys, so a batch of new spans costs no read at all, and a redelivered span
 * is still found by the read. Fixed memory (`bits / 8` bytes); as it fills, more keys answer "maybe"
 * and the sink reads more, it never answers wrongly "new" for a key it was given.
 *
 * Written here rather than taken from npm: the filter is 40 lines over a Uint32Array, and the npm
 * Bloom filters either hash with per-call allocations (bloom-filters, via xxhashjs and seedrandom)
 * or are unmaintained; this hot path runs for every span.
 */
export interface KeyFilter {
  /** Records a key as (maybe) stored. */
  add(key: string): void;
  /** false: the key was never added. true: it may have been. */
  mightHave(key: string): boolean;
  /**
   * `add(spanKey(ref))` without building the key: the same bits (saved filters stay valid), no
   * string per call. The sink asks for every span of every batch.
   */
  addRef(traceId: string, spanId: string): void;
  /** `mightHave(spanKey(ref))` without building the key. */
  mightHaveRef(traceId: string, spanId: string): boolean;
  /** Keys added so far. */
  readonly size: number;
  /** The filter's bits as bytes (a view, not a copy), to save it. */
  bytes(): Uint8Array;
  /** Adds a saved filter's keys (its bits OR-ed in); false when its size differs from this one's. */
  absorb(saved: Uint8Array, keys: number): boolean;
}

/** @default bits 2^27 (16 MiB): ~0.5 % false "maybe" at 10M keys, ~12 % at 30M. */
export const KEY_FILTER_DEFAULT_BITS = 2 ** 27;
const HASHES = 4;

/** The hashes of the last `hash` call (module state: no array per call on this hot path). */
let h1 = 0;
let h2 = 0;

/**
 * Two independent 32-bit FNV-1a hashes of a string's UTF-16 code units (keys are ASCII hex), into
 * h1 and h2. With `second`, of `${first}:${second}` (`spanKey`), without building that string.
 */
function hash(first: string, second?: string): void {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < first.length; i++) {
    const c = first.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  if (second !== undefined) {
    a = Math.imul(a ^ 0x3a, 0x01000193); // ':'
    b = Math.imul(b ^ 0x3a, 0x5bd1e995);
    b ^= b >>> 15;
    for (let i = 0; i < second.length; i++) {
      const c = second.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
  }
  // Final mixing (murmur3 fmix32): FNV alone leaves the low bits of similar keys correlated.
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  b ^= b >>> 16;
  b = Math.imul(b, 0xc2b2ae35);
  b ^= b >>> 13;
  h1 = a >>> 0;
  h2 = (b | 1) >>> 0;
}

/** Creates an empty filter of `bits` bits (rounded up to a multiple of 32). */
export function createKeyFilter(bits: number = KEY_FILTER_DEFAULT_BITS): KeyFilter {
  const words = new Uint32Array(Math.max(1, Math.ceil(bits / 32)));
  const m = words.length * 32;
  let size = 0;
  /** Sets the bits of the key hashed last. */
  function set(): void {
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + i * h2) % m;
      words[bit >>> 5]! |= 1 << (bit & 31);
    }
    size++;
  }
  /** Whether every bit of the key hashed last is set. */
  function allSet(): boolean {
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + i * h2) % m;
      if ((words[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
  return {
    add(key) {
      hash(key);
      set();
    },
    mightHave(key) {
      hash(key);
      return allSet();
    },
    addRef(traceId, spanId) {
      hash(traceId, spanId);
      set();
    },
    mightHaveRef(traceId, spanId) {
      hash(traceId, spanId);
      return allSet();
    },
    get size() {
      return size;
    },
    bytes() {
      return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
    },
    absorb(saved, keys) {
      if (saved.byteLength !== words.byteLength) return false;
      const other = new Uint32Array(words.length);
      new Uint8Array(other.buffer).set(saved);
      for (let i = 0; i < words.length; i++) words[i]! |= other[i]!;
      size += keys;
      return true;
    },
  };
}
