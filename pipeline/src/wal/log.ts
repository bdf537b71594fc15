/**
 * A write-ahead log on disk: records appended to segment files, group-committed (one fsync covers
 * every append waiting at that moment), read back from a position, and cut below a checkpoint.
 * Positions are byte offsets over the whole log (they never restart), so a checkpoint is one
 * number. A segment is named after the position of its first byte and holds whole records.
 */
import {
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  writeFile,
  type FileHandle,
} from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../logger.js';
import { decodeFrames, frameHeader, FRAME_HEADER_BYTES } from './frame.js';

export const WAL_DEFAULTS = {
  /** A new segment starts once the current one holds this many bytes. */
  segmentBytes: 64 * 1024 * 1024,
  /**
   * Payload bytes of durable records kept in memory for `read` (the drain reads what was just
   * appended: without them it read the file back and checked every CRC again, and allocated a
   * 48 MiB buffer a batch). Records beyond it are read from the file as before.
   */
  cacheBytes: 64 * 1024 * 1024,
} as const;

/** Most buffers one writev takes (IOV_MAX is 1024 on Linux). */
const WRITEV_MAX = 1024;

export interface WriteAheadLog {
  /** Appends a record; resolves with the position after it once an fsync covered it. */
  append(payload: Uint8Array): Promise<number>;
  /** Position after the last record appended (on disk or still waiting for its fsync). */
  readonly end: number;
  /** Position after the last record an fsync covered. */
  readonly durableEnd: number;
  /** Everything below this position is stored (the last `commit`). */
  readonly checkpoint: number;
  /**
   * Whole records from `from` (a record boundary), about `maxBytes` of them (at least one when
   * any is durable there), never past `durableEnd`; `next` is the position after the last.
   */
  read(from: number, maxBytes: number): Promise<{ records: Buffer[]; next: number }>;
  /** Records that everything below `position` is stored; deletes the segments wholly below it. */
  commit(position: number): Promise<void>;
  /** Waits for pending appends, closes the files. */
  close(): Promise<void>;
}

export interface OpenedLog {
  log: WriteAheadLog;
  /** Bytes of a torn or corrupt tail dropped while opening (0 after a clean stop). */
  droppedBytes: number;
}

interface Segment {
  start: number;
  path: string;
}

interface PendingAppend {
  header: Buffer;
  payload: Uint8Array;
  resolve: (end: number) => void;
  reject: (err: unknown) => void;
}

const SEGMENT_SUFFIX = '.wal';
const CHECKPOINT_FILE = 'checkpoint.json';
const segmentName = (start: number): string =>
  `${String(start).padStart(16, '0')}${SEGMENT_SUFFIX}`;

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function readCheckpoint(dir: string): Promise<number> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, CHECKPOINT_FILE), 'utf8')) as unknown;
    const position = (parsed as { position?: unknown }).position;
    return typeof position === 'number' && Number.isSafeInteger(position) && position >= 0
      ? position
      : 0;
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return 0;
    throw err;
  }
}

/**
 * Opens (or creates) the log in `dir`: drops segments below the checkpoint, checks every record
 * above it and cuts a torn or corrupt tail (a record never acknowledged), then appends after it.
 */
export async function openWriteAheadLog(
  dir: string,
  options: { segmentBytes?: number; cacheBytes?: number; logger?: Logger } = {},
): Promise<OpenedLog> {
  const segmentBytes = options.segmentBytes ?? WAL_DEFAULTS.segmentBytes;
  const cacheBytes = options.cacheBytes ?? WAL_DEFAULTS.cacheBytes;
  const log = options.logger ?? silentLogger;
  await mkdir(dir, { recursive: true });
  let checkpoint = await readCheckpoint(dir);
  let segments: Segment[] = (await readdir(dir))
    .filter((f) => f.endsWith(SEGMENT_SUFFIX) && /^\d+\.wal$/.test(f))
    .map((f) => ({ start: Number(f.slice(0, -SEGMENT_SUFFIX.length)), path: join(dir, f) }))
    .sort((a, b) => a.start - b.start);
  // Segments wholly below the checkpoint (a crash between the checkpoint and their deletion).
  while (segments.length > 1 && segments[1]!.start <= checkpoint) {
    await rm(segments[0]!.path, { force: true });
    segments = segments.slice(1);
  }
  if (segments.length > 0 && segments[0]!.start > checkpoint) checkpoint = segments[0]!.start;
  let end = checkpoint;
  let droppedBytes = 0;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const buf = await readFile(seg.path);
    const from = Math.max(0, checkpoint - seg.start);
    const decoded = decodeFrames(buf, Math.min(from, buf.length));
    end = seg.start + decoded.end;
    if (decoded.stop === 'end') continue;
    // A torn tail (crash during a write) or a corrupt record: nothing from there on was acknowledged
    // in the torn case; in the corrupt case (disk damage) it cannot be read either way.
    droppedBytes += buf.length - decoded.end;
    for (const later of segments.slice(i + 1)) {
      droppedBytes += (await readFile(later.path)).length;
      await rm(later.path, { force: true });
    }
    segments = segments.slice(0, i + 1);
    const fh = await open(seg.path, 'r+');
    try {
      await fh.truncate(decoded.end);
      await fh.sync();
    } finally {
      await fh.close();
    }
    log.warn('write-ahead log: dropped a torn or corrupt tail', {
      segment: seg.path,
      bytes: droppedBytes,
      stop: decoded.stop,
    });
    break;
  }
  if (segments.length === 0) {
    segments.push({ start: end, path: join(dir, segmentName(end)) });
    await (await open(segments[0]!.path, 'a')).close();
    await fsyncDir(dir);
  }
  let current = segments[segments.length - 1]!;
  let writer: FileHandle = await open(current.path, 'a');
  let currentBytes = end - current.start;
  let durableEnd = end;
  let appendedEnd = end;
  let pending: PendingAppend[] = [];
  let flushing: Promise<void> | undefined;
  /**
   * Durable records still in memory, contiguous (each starts where the previous ends), oldest
   * first; dropped once committed. A record that does not fit is not added, nor any after it
   * until the cache is empty again, so the cache never has a gap.
   */
  let cache: { start: number; end: number; payload: Buffer }[] = [];
  let cached = 0;
  /** The error that left the file's tail unknown; every later append is refused with it. */
  let broken: Error | undefined;
  let closed = false;

  /** The segment holding `position`, and where that segment's records end. */
  function segmentAt(position: number): { seg: Segment; end: number } | undefined {
    for (let i = segments.length - 1; i >= 0; i--) {
      const seg = segments[i]!;
      if (seg.start <= position) {
        const next = segments[i + 1];
        return { seg, end: next === undefined ? durableEnd : next.start };
      }
    }
    return undefined;
  }

  async function rotate(): Promise<void> {
    await writer.close();
    current = { start: durableEnd, path: join(dir, segmentName(durableEnd)) };
    writer = await open(current.path, 'a');
    await fsyncDir(dir);
    segments.push(current);
    currentBytes = 0;
  }

  /** Writes every waiting append with one fsync, again while more arrived meanwhile. */
  async function flushPending(): Promise<void> {
    while (pending.length > 0) {
      const group = pending;
      pending = [];
      try {
        if (broken !== undefined) throw broken;
        if (currentBytes >= segmentBytes) await rotate();
        const buffers: Uint8Array[] = [];
        for (const g of group) buffers.push(g.header, g.payload);
        const length = await writeAll(writer, buffers);
        await writer.datasync();
        currentBytes += length;
        let at = durableEnd;
        durableEnd += length;
        for (const g of group) {
          const start = at;
          at += FRAME_HEADER_BYTES + g.payload.length;
          const last = cache.at(-1);
          if (
            cached + g.payload.length <= cacheBytes &&
            (last === undefined || last.end === start)
          ) {
            const payload = Buffer.isBuffer(g.payload)
              ? g.payload
              : Buffer.from(g.payload.buffer, g.payload.byteOffset, g.payload.length);
            cache.push({ start, end: at, payload });
            cached += g.payload.length;
          }
          g.resolve(at);
        }
      } catch (err) {
        // The file's tail is unknown now: refuse every later append (restart replays what is whole).
        broken ??= err instanceof Error ? err : new Error(String(err));
        for (const g of group) g.reject(err);
      }
    }
  }

  /** Appends of the same tick (and those arriving during an fsync) share one fsync. */
  function scheduleFlush(): void {
    flushing ??= new Promise<void>((done) => setImmediate(done)).then(flushPending).finally(() => {
      flushing = undefined;
      if (pending.length > 0) scheduleFlush();
    });
  }

  const wal: WriteAheadLog = {
    append(payload) {
      if (closed) return Promise.reject(new Error('write-ahead log closed'));
      if (broken !== undefined) return Promise.reject(broken);
      const header = frameHeader(payload);
      appendedEnd += FRAME_HEADER_BYTES + payload.length;
      return new Promise<number>((resolve, reject) => {
        pending.push({ header, payload, resolve, reject });
        scheduleFlush();
      });
    },
    get end() {
      return appendedEnd;
    },
    get durableEnd() {
      return durableEnd;
    },
    get checkpoint() {
      return checkpoint;
    },
    async read(from, maxBytes) {
      // From memory when the records there are still cached (the drain keeping up).
      const first = cache.findIndex((c) => c.start === from);
      if (first >= 0) {
        const records: Buffer[] = [];
        let bytes = 0;
        let next = from;
        for (let i = first; i < cache.length; i++) {
          const c = cache[i]!;
          if (c.end > durableEnd || (records.length > 0 && bytes + c.payload.length > maxBytes))
            break;
          records.push(c.payload);
          bytes += c.payload.length;
          next = c.end;
        }
        return { records, next };
      }
      let at = from;
      for (;;) {
        const where = segmentAt(at);
        if (where === undefined || at >= durableEnd) return { records: [], next: at };
        if (at >= where.end) {
          // The end of a full segment: records go on in the next one.
          at = where.end;
          if (at >= durableEnd) return { records: [], next: at };
          continue;
        }
        const fh = await open(where.seg.path, 'r');
        try {
          let length = Math.min(Math.max(maxBytes, FRAME_HEADER_BYTES), where.end - at);
          let buf = Buffer.allocUnsafe(length);
          await readFully(fh, buf, at - where.seg.start);
          let decoded = decodeFrames(buf);
          if (decoded.frames.length === 0) {
            // One record larger than maxBytes: read it whole.
            length = FRAME_HEADER_BYTES + buf.readUInt32LE(0);
            buf = Buffer.allocUnsafe(length);
            await readFully(fh, buf, at - where.seg.start);
            decoded = decodeFrames(buf);
          }
          if (decoded.frames.length === 0)
            throw new Error(`write-ahead log: no readable record at position ${at}`);
          return { records: decoded.frames.map((f) => f.payload), next: at + decoded.end };
        } finally {
          await fh.close();
        }
      }
    },
    async commit(position) {
      if (position <= checkpoint) return;
      const tmp = join(dir, `${CHECKPOINT_FILE}.tmp`);
      await writeFile(tmp, JSON.stringify({ position }));
      const fh = await open(tmp, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, join(dir, CHECKPOINT_FILE));
      await fsyncDir(dir);
      checkpoint = position;
      let drop = 0;
      while (drop < cache.length && cache[drop]!.end <= position)
        cached -= cache[drop++]!.payload.length;
      if (drop > 0) cache = cache.slice(drop);
      while (segments.length > 1 && segments[1]!.start <= checkpoint) {
        await rm(segments[0]!.path, { force: true });
        segments = segments.slice(1);
      }
    },
    async close() {
      closed = true;
      while (flushing !== undefined) await flushing;
      await writer.close();
    },
  };
  return { log: wal, droppedBytes };
}

/**
 * Writes the buffers one after the other at the file's end (writev, at most WRITEV_MAX a call; a
 * short write goes on from where it stopped). Returns the bytes written.
 */
async function writeAll(fh: FileHandle, buffers: readonly Uint8Array[]): Promise<number> {
  let total = 0;
  for (let i = 0; i < buffers.length; i += WRITEV_MAX) {
    const part = buffers.slice(i, i + WRITEV_MAX);
    const length = part.reduce((n, b) => n + b.length, 0);
    const { bytesWritten } = await fh.writev(part);
    if (bytesWritten < length) {
      const rest = Buffer.concat(part).subarray(bytesWritten);
      let written = 0;
      while (written < rest.length) {
        const r = await fh.write(rest, written, rest.length - written);
        written += r.bytesWritten;
      }
    }
    total += length;
  }
  return total;
}

async function readFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let read = 0;
  while (read < buf.length) {
    const r = await fh.read(buf, read, buf.length - read, position + read);
    if (r.bytesRead === 0) throw new Error('write-ahead log: segment shorter than recorded');
    read += r.bytesRead;
  }
}
