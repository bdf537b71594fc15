/**
 * Framing of write-ahead-log records: `[payload length: u32 LE][crc32 of the payload: u32 LE]
 * [payload]`. A crash can leave the last record half written (torn); its length or checksum then
 * does not match and replay stops there, dropping it: it was never acknowledged, because a 200 is
 * sent only after the fsync that covers the whole record.
 *
 * Written here rather than taken from npm: the framing is a few lines over `node:zlib`'s crc32,
 * and the npm append-only logs looked at do other jobs: `hypercore` is a signed Merkle log for
 * replication between peers, `async-append-only-log` a block log for Secure Scuttlebutt whose
 * acknowledgement is not tied to an fsync we can group. What we need is append + one fsync per
 * group of appends + read from a position + delete whole segments below a checkpoint.
 */
import { crc32 } from 'node:zlib';

/** Bytes of a frame's header. */
export const FRAME_HEADER_BYTES = 8;
/** Largest payload a frame may hold (a request's rows; the body limit keeps them far below). */
export const MAX_FRAME_PAYLOAD = 1 << 30;

/** The frame of one record: header + payload, ready to append. */
export function encodeFrame(payload: Uint8Array): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD)
    throw new RangeError(`WAL record of ${payload.length} bytes exceeds ${MAX_FRAME_PAYLOAD}`);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(crc32(payload), 4);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * The header of one record's frame alone (the log writes it and the payload with one writev, so
 * the payload is never copied into a frame buffer). `encodeFrame` = header + payload.
 */
export function frameHeader(payload: Uint8Array): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD)
    throw new RangeError(`WAL record of ${payload.length} bytes exceeds ${MAX_FRAME_PAYLOAD}`);
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32LE(payload.length, 0);
  header.writeUInt32LE(crc32(payload), 4);
  return header;
}

/** A record found in a buffer: its payload and where its frame ends (relative to the buffer). */
export interface DecodedFrame {
  payload: Buffer;
  end: number;
}

/**
 * Whole, valid frames of `buf` from `start`, stopping before the first incomplete one (`short`:
 * more bytes may complete it) or the first whose checksum does not match (`corrupt`).
 */
export function decodeFrames(
  buf: Buffer,
  start = 0,
  maxFrames = Infinity,
): { frames: DecodedFrame[]; end: number; stop: 'end' | 'short' | 'corrupt' } {
  const frames: DecodedFrame[] = [];
  let at = start;
  while (frames.length < maxFrames) {
    if (at === buf.length) return { frames, end: at, stop: 'end' };
    if (buf.length - at < FRAME_HEADER_BYTES) return { frames, end: at, stop: 'short' };
    const length = buf.readUInt32LE(at);
    if (length > MAX_FRAME_PAYLOAD) return { frames, end: at, stop: 'corrupt' };
    const end = at + FRAME_HEADER_BYTES + length;
    if (end > buf.length) return { frames, end: at, stop: 'short' };
    const payload = buf.subarray(at + FRAME_HEADER_BYTES, end);
    if (crc32(payload) !== buf.readUInt32LE(at + 4)) return { frames, end: at, stop: 'corrupt' };
    frames.push({ payload, end });
    at = end;
  }
  return { frames, end: at, stop: at === buf.length ? 'end' : 'short' };
}
