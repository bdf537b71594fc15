import type { IncomingMessage } from 'node:http';
import { gunzip, inflate } from 'node:zlib';
import { PipelineError } from '../errors.js';

/**
 * Reads a request body, refusing more than `limit` bytes on the wire and after decompression
 * (a gzip bomb is cut off when its output passes the limit, not after).
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw tooLarge(limit);
    }
    chunks.push(chunk);
  }
  const raw = Buffer.concat(chunks);
  const encoding = String(req.headers['content-encoding'] ?? 'identity')
    .toLowerCase()
    .trim();
  if (encoding === 'identity' || encoding === '') return raw;
  if (encoding !== 'gzip' && encoding !== 'deflate') {
    throw new PipelineError(
      'UNSUPPORTED_MEDIA_TYPE',
      `Content-Encoding ${JSON.stringify(encoding)} is not supported: send gzip, deflate or no encoding.`,
    );
  }
  const unzip = encoding === 'gzip' ? gunzip : inflate;
  return await new Promise<Buffer>((resolve, reject) => {
    unzip(raw, { maxOutputLength: limit }, (err, out) => {
      if (!err) return resolve(out);
      if (
        (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ||
        err instanceof RangeError
      ) {
        return reject(
          new PipelineError(
            'PAYLOAD_TOO_LARGE',
            `The ${encoding} body expands past the limit of ${limit} bytes. Send smaller batches (or raise HM_MAX_BODY_BYTES).`,
          ),
        );
      }
      reject(
        new PipelineError('BAD_REQUEST', `The body is not valid ${encoding}: ${err.message}.`, {
          cause: err,
        }),
      );
    });
  });
}

function tooLarge(limit: number): PipelineError {
  return new PipelineError(
    'PAYLOAD_TOO_LARGE',
    `The body is larger than the limit of ${limit} bytes. Send smaller batches (or raise HM_MAX_BODY_BYTES).`,
  );
}
