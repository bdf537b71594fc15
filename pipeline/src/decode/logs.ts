import { createHash } from 'node:crypto';
import type { SpanRecord } from '../model.js';
import { agentMapper } from './agents.js';
import { OtlpDecodeError } from './errors.js';
import {
  checkAttributes,
  expectArray,
  expectObject,
  type OtlpAnyValue,
  type OtlpKeyValue,
} from './otlp-object.js';
import { otlpType, parseOtlpBody } from './proto.js';
import { attributeMap, MAX_DECODE_ERRORS, toSpanRecord, type OtlpEncoding } from './traces.js';
import { isKeptAgentAttribute } from './agent-attributes.js';
import {
  boundRecord,
  checkTime,
  DECODE_DEFAULTS,
  SpanRejectedError,
  storedText,
  wellFormedDeep,
  type DecodeLimits,
} from './validate.js';

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
  /** Agent events refused (bad times or counts), with reasons in `errors`. */
  rejected: number;
  errors: string[];
}

function toNanos(v: unknown): bigint | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return BigInt(v);
  if (typeof v === 'string' && /^\d+$/.test(v) && !/^0+$/.test(v)) return BigInt(v);
  return undefined;
}

/**
 * Checks the structure of a logs request (arrays and objects where OTLP has them, attribute
 * values of their OTLP/JSON types), so garbage is a 400 naming the place, never a crash.
 */
function assertLogsShape(request: Record<string, unknown>): OtlpLogsRequest {
  expectArray(request.resourceLogs, 'resourceLogs').forEach((rl, i) => {
    const at = `resourceLogs[${i}]`;
    const r = expectObject(rl, at);
    if (!r) throw new OtlpDecodeError(`${at}: expected an object, got null.`);
    const resource = expectObject(r.resource, `${at}.resource`);
    if (resource) checkAttributes(resource.attributes, `${at}.resource.attributes`);
    expectArray(r.scopeLogs, `${at}.scopeLogs`).forEach((sl, j) => {
      const sat = `${at}.scopeLogs[${j}]`;
      const scope = expectObject(sl, sat);
      if (!scope) throw new OtlpDecodeError(`${sat}: expected an object, got null.`);
      expectObject(scope.scope, `${sat}.scope`);
      expectArray(scope.logRecords, `${sat}.logRecords`).forEach((rec, k) => {
        const rat = `${sat}.logRecords[${k}]`;
        const record = expectObject(rec, rat);
        if (!record) throw new OtlpDecodeError(`${rat}: expected an object, got null.`);
        checkAttributes(record.attributes, `${rat}.attributes`);
        expectObject(record.body, `${rat}.body`);
        if (record.eventName != null && typeof record.eventName !== 'string')
          throw new OtlpDecodeError(`${rat}.eventName: expected a string.`);
      });
    });
  });
  return request;
}

const hash = (text: string, chars: number): string =>
  createHash('sha256').update(text).digest('hex').slice(0, chars);

export function parseLogsRequest(body: Uint8Array, encoding: OtlpEncoding): OtlpLogsRequest {
  return assertLogsShape(
    wellFormedDeep(parseOtlpBody(body, encoding, LOGS_REQUEST, 'resourceLogs')),
  );
}

/**
 * Decodes an OTLP logs body and turns the events of known coding agents (Claude Code) into span
 * records, with the same attribute names the SDK writes. Ids are derived from the session, the
 * event and its sequence/time, so a redelivered event is the same record (counted once).
 */
export function decodeLogsRequest(
  body: Uint8Array,
  encoding: OtlpEncoding,
  limits: DecodeLimits = DECODE_DEFAULTS,
): DecodedLogs {
  const request = parseLogsRequest(body, encoding);
  const out: DecodedLogs = { spans: [], ignored: 0, rejected: 0, errors: [] };
  const note = (m: string): void => {
    if (out.errors.length < MAX_DECODE_ERRORS) out.errors.push(m);
  };
  for (const rl of request.resourceLogs ?? []) {
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
        try {
          if (mapped.kind === 'ignored') {
            out.ignored++;
            continue;
          }
          const isoTime = attrs['event.timestamp'] ? Date.parse(attrs['event.timestamp']) : NaN;
          const end =
            toNanos(rec.timeUnixNano) ??
            toNanos(rec.observedTimeUnixNano) ??
            (Number.isNaN(isoTime) ? undefined : BigInt(isoTime) * 1_000_000n);
          if (end === undefined)
            throw new SpanRejectedError('no timeUnixNano, observedTimeUnixNano or event.timestamp');
          checkTime(end, 'timeUnixNano');
          const start = end - BigInt(mapped.durationMs) * 1_000_000n;
          const session =
            attrs['session.id'] ||
            attrs['conversation.id'] ||
            resourceAttributes['session.id'] ||
            '';
          // Only listed attributes are kept (agent-attributes.json): an agent's new field may hold text.
          const spanAttributes: Record<string, string> = {};
          let cut = 0;
          for (const [k, v] of Object.entries(attrs)) {
            if (mapped.dropKeys.includes(k) || !isKeptAgentAttribute(k)) continue;
            const t = storedText(v, limits.attributeValueLengthLimit);
            if (t.cut) cut++;
            spanAttributes[k] = t.text;
          }
          for (const [k, v] of Object.entries(mapped.attributes))
            spanAttributes[k] = storedText(v, limits.attributeValueLengthLimit).text;
          const resource: Record<string, string> = {};
          for (const [k, v] of Object.entries(resourceAttributes))
            resource[k] = storedText(v, limits.attributeValueLengthLimit).text;
          const identity = `${session}|${event}|${attrs['event.sequence'] ?? ''}|${end.toString()}|${attrs['prompt.id'] ?? ''}|${attrs.call_id ?? ''}`;
          const record = toSpanRecord(
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
              scopeName: storedText(sl.scope?.name ?? '', 256).text,
              resourceAttributes: resource,
              spanAttributes,
            },
            [],
          );
          out.spans.push(boundRecord(record, cut, limits));
        } catch (err) {
          if (!(err instanceof SpanRejectedError)) throw err;
          out.rejected++;
          note(`${event}: ${err.message}`);
        }
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
