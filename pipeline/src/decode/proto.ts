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
