import { createHash } from 'node:crypto';
import type { SpanRecord } from '../model.js';
import { agentMapper } from './agents.js';
import { OtlpDecodeError } from './errors.js';
import type { OtlpAnyValue, OtlpKeyValue } from './otlp-object.js';
import { otlpType, parseOtlpBody } from './proto.js';
import { attributeMap, MAX_DECODE_ERRORS, toSpanRecord, type OtlpEncoding } from './traces.js';

const LOGS_REQUEST = 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest';

interface OtlpLogRecord {
  timeUnixNano?: string | number;
  observedTimeUnixNano?: string | number;
  body?: OtlpAnyValue;
  attributes?: OtlpKeyValue[];
  eventName?: string;
}
interface OtlpLogsRequest {
  resourceLogs?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeLogs?: { scope?: { name?: string }; logRecords?: OtlpLogRecord[] }[];
  }[];
}

/** Agent events of one export request, as span records. */
export interface DecodedLogs {
  spans: SpanRecord[];
  /** Records that are no agent event harness-meter maps (other logs, unknown or usage-free events). */
  ignored: number;
  /** Agent events that could not be read (bad times). */
  rejected: number;
  errors: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function toNanos(v: unknown): bigint | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return BigInt(v);
  if (typeof v === 'string' && /^\d+$/.test(v) && v !== '0') return BigInt(v);
  return undefined;
}

const hash = (text: string, chars: number): string =>
  createHash('sha256').update(text).digest('hex').slice(0, chars);

export function parseLogsRequest(body: Uint8Array, encoding: OtlpEncoding): OtlpLogsRequest {
  return parseOtlpBody(body, encoding, LOGS_REQUEST, 'resourceLogs');
}

/**
 * Decodes an OTLP logs body and turns the events of known coding agents (Claude Code) into span
 * records, with the same attribute names the SDK writes. Ids are derived from the session, the
 * event and its sequence/time, so a redelivered event is the same record (counted once).
 */
export function decodeLogsRequest(body: Uint8Array, encoding: OtlpEncoding): DecodedLogs {
  const request = parseLogsRequest(body, encoding);
  const out: DecodedLogs = { spans: [], ignored: 0, rejected: 0, errors: [] };
  const note = (m: string): void => {
    if (out.errors.length < MAX_DECODE_ERRORS) out.errors.push(m);
  };
  for (const rl of request.resourceLogs ?? []) {
    if (!isObject(rl)) throw new OtlpDecodeError('resourceLogs[]: expected objects.');
    const resourceAttributes = attributeMap(rl.resource?.attributes);
    for (const sl of rl.scopeLogs ?? []) {
      for (const rec of sl.logRecords ?? []) {
        const attrs = attributeMap(rec.attributes);
        // The event's name may be in the record's event_name, its body, or event.name (Claude Code puts
        // `claude_code.api_request` in the body and `api_request` in event.name).
        const bare = attrs['event.name'] ?? '';
        const service = resourceAttributes['service.name'] ?? '';
        const prefix =
          service === 'claude-code'
            ? 'claude_code.'
            : service.startsWith('codex')
              ? 'codex.'
              : service.startsWith('gemini')
                ? 'gemini_cli.'
                : '';
        const candidates = [
          rec.eventName ?? '',
          rec.body?.stringValue ?? '',
          bare,
          prefix && bare ? `${prefix}${bare}` : '',
        ];
        const event = candidates.find((c) => c !== '' && agentMapper(c) !== undefined) ?? '';
        const mapper = agentMapper(event);
        if (!mapper) {
          out.ignored++;
          continue;
        }
        const mapped = mapper(event, attrs);
        if (mapped.kind === 'ignored') {
          out.ignored++;
          continue;
        }
        const isoTime = attrs['event.timestamp'] ? Date.parse(attrs['event.timestamp']) : NaN;
        const end =
          toNanos(rec.timeUnixNano) ??
          toNanos(rec.observedTimeUnixNano) ??
          (Number.isNaN(isoTime) ? undefined : BigInt(isoTime) * 1_000_000n);
        if (end === undefined) {
          out.rejected++;
          note(`${event}: no timeUnixNano, observedTimeUnixNano or event.timestamp`);
          continue;
        }
        const start = end - BigInt(mapped.durationMs) * 1_000_000n;
        const session =
          attrs['session.id'] || attrs['conversation.id'] || resourceAttributes['session.id'] || '';
        const spanAttributes: Record<string, string> = {};
        for (const [k, v] of Object.entries(attrs))
          if (!mapped.dropKeys.includes(k)) spanAttributes[k] = v;
        Object.assign(spanAttributes, mapped.attributes);
        const identity = `${session}|${event}|${attrs['event.sequence'] ?? ''}|${end.toString()}|${attrs['prompt.id'] ?? ''}|${attrs.call_id ?? ''}`;
        out.spans.push(
          toSpanRecord(
            {
              traceId: hash(`session:${session || identity}`, 32),
              spanId: hash(identity, 16),
              parentSpanId: '',
              name: mapped.name,
              kind: mapped.kind === 'llm' ? 3 : 1,
              startTimeUnixNano: start > 0n ? start : end,
              endTimeUnixNano: end,
              statusCode: mapped.attributes['harness_meter.tool.error'] === 'true' ? 2 : 0,
              statusMessage: '',
              scopeName: sl.scope?.name ?? '',
              resourceAttributes,
              spanAttributes,
            },
            [],
          ),
        );
      }
    }
  }
  return out;
}

/**
 * Serializes OTLP/JSON logs as a protobuf ExportLogsServiceRequest (hex ids to bytes), the
 * `otlp_proto` form the Collector's Kafka exporter writes to `otlp_logs`.
 */
export function encodeLogsRequestProtobuf(json: Uint8Array): Uint8Array {
  const request = parseLogsRequest(json, 'json');
  const fixValue = (v: OtlpAnyValue | undefined): void => {
    if (!v) return;
    if (v.bytesValue !== undefined)
      (v as Record<string, unknown>).bytesValue = Buffer.from(v.bytesValue, 'base64');
    for (const x of v.arrayValue?.values ?? []) fixValue(x);
    for (const kv of v.kvlistValue?.values ?? []) fixValue(kv.value);
  };
  for (const rl of request.resourceLogs ?? []) {
    for (const kv of rl.resource?.attributes ?? []) fixValue(kv.value);
    for (const sl of rl.scopeLogs ?? []) {
      for (const rec of sl.logRecords ?? []) {
        const r = rec as Record<string, unknown>;
        for (const id of ['traceId', 'spanId']) {
          const v = r[id];
          r[id] =
            typeof v === 'string' && /^[0-9a-fA-F]+$/.test(v) ? Buffer.from(v, 'hex') : undefined;
        }
        fixValue(rec.body);
        for (const kv of rec.attributes ?? []) fixValue(kv.value);
      }
    }
  }
  const type = otlpType(LOGS_REQUEST);
  return type.encode(type.fromObject(request)).finish();
}
