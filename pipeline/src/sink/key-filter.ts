/**
 * A Bloom filter over span keys: "definitely never stored" or "maybe stored". The sink asks the store
 * only about the "maybe" keys, so a batch of new spans costs no read at all, and a redelivered span
 * is still found by the read. Fixed memory (`bits / 8` bytes); as it fills, more keys answer "maybe"
 * and the sink reads more, it never answers wrongly "new" for a key it was given.
 *
 * Written here rather than taken from npm: the filter is 40 lines over a Uint32Array, and the npm
 * Bloom filters either hash with per-call allocations (bloom-filters, via xxhashjs and seedrandom)
 * or are unmaintained; this hot path runs for every span. Its two hashes are ones ClickHouse has
 * (murmurHash3_32, xxHash32), so a seed from 10M stored keys is one aggregation in the store.
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
  /** ORs `bits` into 32-bit word `index` (bits the store computed, keyFilterBitsSql). */
  orWord(index: number, bits: number): void;
  /** Counts keys added through orWord. */
  addCount(keys: number): void;
}

/**
 * @default bits 2^28 (32 MiB), with 6 hashes: ~0.007 % false "maybe" at 10M keys, ~0.6 % at 30M.
 * (16 MiB and 4 hashes gave 0.44 % at 10M: with a few thousand spans per batch, nearly every batch
 * had a "maybe" and waited for a lookup that an empty store never needs, measured as the gap of
 * ingest at 10M stored.)
 */
export const KEY_FILTER_DEFAULT_BITS = 2 ** 28;
/** Bits set per key. */
export const KEY_FILTER_HASHES = 6;
const HASHES = KEY_FILTER_HASHES;

/** The hashes of the last `hash` call (module state: no array per call on this hot path). */
let h1 = 0;
let h2 = 0;
/** The key's UTF-8 bytes, reused (grown when a key is longer). */
let scratch = new Uint8Array(256);
const encoder = new TextEncoder();

/**
 * The bytes of `${first}:${second}` (or `first` alone) into `scratch`, without building the string;
 * returns their count. Ids are ASCII hex: other characters go through the UTF-8 encoder.
 */
function keyBytes(first: string, second: string | undefined): number {
  const need = (first.length + (second?.length ?? 0) + 1) * 3;
  if (need > scratch.length) scratch = new Uint8Array(need);
  let n = 0;
  for (let i = 0; i < first.length; i++) {
    const c = first.charCodeAt(i);
    if (c > 0x7f)
      return encoder.encodeInto(second === undefined ? first : `${first}:${second}`, scratch)
        .written;
    scratch[n++] = c;
  }
  if (second === undefined) return n;
  scratch[n++] = 0x3a; // ':'
  for (let i = 0; i < second.length; i++) {
    const c = second.charCodeAt(i);
    if (c > 0x7f) return encoder.encodeInto(`${first}:${second}`, scratch).written;
    scratch[n++] = c;
  }
  return n;
}

const word = (b: Uint8Array, i: number): number =>
  b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));

/** MurmurHash3_x86_32 with seed 0: ClickHouse's murmurHash3_32 of the same string. */
export function murmur3(b: Uint8Array, len: number): number {
  let h = 0;
  const blocks = len & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = Math.imul(word(b, i), 0xcc9e2d51);
    k = Math.imul(rotl(k, 15), 0x1b873593);
    h = rotl(h ^ k, 13);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = len & 3;
  if (tail > 0) {
    let k = b[blocks]!;
    if (tail >= 2) k ^= b[blocks + 1]! << 8;
    if (tail === 3) k ^= b[blocks + 2]! << 16;
    h ^= Math.imul(rotl(Math.imul(k, 0xcc9e2d51), 15), 0x1b873593);
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;
const round = (acc: number, input: number): number =>
  Math.imul(rotl((acc + Math.imul(input, P2)) | 0, 13), P1);

/** XXH32 with seed 0: ClickHouse's xxHash32 of the same string. */
export function xxh32(b: Uint8Array, len: number): number {
  let i = 0;
  let h: number;
  if (len >= 16) {
    let v1 = (P1 + P2) | 0;
    let v2 = P2;
    let v3 = 0;
    let v4 = -P1 | 0;
    for (; i + 16 <= len; i += 16) {
      v1 = round(v1, word(b, i));
      v2 = round(v2, word(b, i + 4));
      v3 = round(v3, word(b, i + 8));
      v4 = round(v4, word(b, i + 12));
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else h = P5;
  h = (h + len) | 0;
  for (; i + 4 <= len; i += 4) h = Math.imul(rotl((h + Math.imul(word(b, i), P3)) | 0, 17), P4);
  for (; i < len; i++) h = Math.imul(rotl((h + Math.imul(b[i]!, P5)) | 0, 11), P1);
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The two hashes of a key (`${first}:${second}` when `second` is given, `spanKey`), into h1 and
 * h2: murmur3 and xxHash32 of its UTF-8 bytes, which ClickHouse computes too, so the store can
 * build the filter's bits itself (KEY_FILTER_BITS_SQL) instead of sending every key to Node.
 */
function hash(first: string, second?: string): void {
  const len = keyBytes(first, second);
  h1 = murmur3(scratch, len);
  h2 = (xxh32(scratch, len) | 1) >>> 0;
}

/**
 * The SQL of the filter's bit positions for keys `k` (a String column of `spanKey`s), as the JS
 * `hash` and `set` compute them: bit i of a key is (h1 + i * h2) mod m.
 */
export function keyFilterBitsSql(keyColumn: string, bits: number, hashes = HASHES): string {
  const m = Math.max(1, Math.ceil(bits / 32)) * 32;
  const steps = Array.from({ length: hashes }, (_, i) => i).join(', ');
  return `arrayMap(i -> (toUInt64(murmurHash3_32(${keyColumn})) + i * toUInt64(bitOr(xxHash32(${keyColumn}), 1))) % ${m}, [${steps}])`;
}

/** The hash functions' name, kept in saved filters: bits made by another hash are not reused. */
export const KEY_FILTER_HASH = 'murmur3_32+xxhash32, 6 bits per key';

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
    orWord(index, bits) {
      if (index < 0 || index >= words.length) throw new RangeError(`key filter word ${index}`);
      words[index]! |= bits;
    },
    addCount(keys) {
      size += keys;
    },
  };
}
