import { OtlpDecodeError } from './errors.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/** The OTLP .proto files shipped with the pipeline (pipeline/proto). */
const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));

let root: protobuf.Root | undefined;

function otlpRoot(): protobuf.Root {
  if (root) return root;
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => join(PROTO_DIR, target);
  r.loadSync(
    [
      'opentelemetry/proto/collector/trace/v1/trace_service.proto',
      'opentelemetry/proto/collector/logs/v1/logs_service.proto',
      'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
    ],
    { keepCase: false },
  );
  root = r;
  return r;
}

/** protobufjs type of an OTLP message, e.g. `opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest`. */
export function otlpType(name: string): protobuf.Type {
  return otlpRoot().lookupType(name);
}

export const TRACE_REQUEST = 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest';

/**
 * Reads an OTLP export request body into the OTLP/JSON object shape: protobuf through the .proto
 * types (64-bit integers as strings, bytes as base64), or JSON checked to be an object whose `listKey`
 * (resourceSpans, resourceLogs, resourceMetrics) is an array when present.
 */
export function parseOtlpBody(
  body: Uint8Array,
  encoding: 'protobuf' | 'json',
  messageType: string,
  listKey: string,
): Record<string, unknown> {
  const what = messageType.split('.').at(-1) ?? messageType;
  if (encoding === 'protobuf') {
    const type = otlpType(messageType);
    try {
      return type.toObject(type.decode(body), {
        longs: String,
        bytes: String,
        enums: Number,
        defaults: false,
        arrays: true,
      });
    } catch (err) {
      throw new OtlpDecodeError(
        `The body is not a valid protobuf ${what}: ${err instanceof Error ? err.message : String(err)}.`,
        { cause: err },
      );
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(
      Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'),
    );
  } catch (err) {
    throw new OtlpDecodeError(
      `The body is not valid JSON: ${err instanceof Error ? err.message : String(err)}.`,
      { cause: err },
    );
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    Array.isArray(parsed) ||
    ((parsed as Record<string, unknown>)[listKey] !== undefined &&
      !Array.isArray((parsed as Record<string, unknown>)[listKey]))
  ) {
    throw new OtlpDecodeError(
      `The body is not an OTLP ${what}: expected a JSON object with a ${listKey} array.`,
    );
  }
  return parsed as Record<string, unknown>;
}
