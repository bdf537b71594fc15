/**
 * One mapping from errors to HTTP answers, for every route: 4xx with a reason for permanent
 * problems (the client must change the request), 503 with Retry-After only for transient ones
 * (retrying the same request can succeed), 500 only for harness-meter's own bugs.
 */
import { isClickHouseDataError } from '@harness-meter/queries';
import { PipelineError } from '../errors.js';
import { RPC_CODE } from './otlp-response.js';

/** Seconds a client should wait before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 2;

export interface ErrorStatus {
  status: number;
  /** google.rpc code for OTLP answers. */
  rpc: number;
  message: string;
  retriable: boolean;
  /** Machine-readable code for JSON answers (`code` of the error, else INTERNAL). */
  code: string;
}

const INVALID_INPUT_CODES: Readonly<Record<string, number>> = {
  BAD_REQUEST: 400,
  INVALID_ARGUMENT: 400, // StoreError: a parameter the store cannot take
  OTLP_DECODE_FAILED: 400,
  CONFIG_INVALID: 400, // a route's own options, e.g. an alert rule posted
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE: 422,
  SPAN_REJECTED: 422,
  POISON_MESSAGE: 422,
};

const permanent = (status: number, message: string, code: string): ErrorStatus => ({
  status,
  rpc: RPC_CODE.invalidArgument,
  message,
  retriable: false,
  code,
});

/**
 * The HTTP status of an error thrown while handling a request. Typed errors (`code`, `retriable`)
 * decide; ClickHouse refusing the values of a request is the client's problem (422), never a 503
 * that makes it retry forever.
 */
export function statusFor(err: unknown): ErrorStatus {
  const message = err instanceof Error ? err.message : String(err);
  const code =
    err instanceof Error && 'code' in err ? String((err as { code: unknown }).code) : 'INTERNAL';
  const known = Object.hasOwn(INVALID_INPUT_CODES, code) ? INVALID_INPUT_CODES[code] : undefined;
  if (known !== undefined) return permanent(known, message, code);
  if (isClickHouseDataError(err))
    return permanent(
      422,
      `The store refused the values of this request: ${message}`,
      'UNPROCESSABLE',
    );
  const retriable =
    err instanceof PipelineError ||
    (err instanceof Error && 'retriable' in err && typeof err.retriable === 'boolean')
      ? (err as { retriable: boolean }).retriable
      : false;
  if (retriable) return { status: 503, rpc: RPC_CODE.unavailable, message, retriable: true, code };
  if (
    !(err instanceof PipelineError) &&
    err instanceof Error &&
    'code' in err &&
    'retriable' in err
  )
    // Other typed, non-retriable errors of our decoders and parsers: bad data.
    return permanent(400, message, code);
  return {
    status: 500,
    rpc: RPC_CODE.internal,
    message: `Internal error: ${message}`,
    retriable: false,
    code: 'INTERNAL',
  };
}
