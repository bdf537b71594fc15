import { createHash } from 'node:crypto';
import { OtlpDecodeError } from './errors.js';
import { checkAttributes, expectArray, expectObject, type OtlpKeyValue } from './otlp-object.js';
import { parseOtlpBody } from './proto.js';
import { attributeMap, MAX_DECODE_ERRORS, type OtlpEncoding } from './traces.js';
import {
  checkTime,
  DECODE_DEFAULTS,
  SpanRejectedError,
  storedText,
  wellFormedDeep,
  type DecodeLimits,
} from './validate.js';

const METRICS_REQUEST = 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest';

/**
 * Agents' usage counters, kept to cross-check the totals of their events, never added to them:
 * Claude Code `claude_code.token.usage` / `claude_code.cost.usage`, Gemini CLI `gemini_cli.token.usage`.
 */
export const CROSS_CHECK_METRICS: Readonly<
  Record<string, { source: string; unit: 'tokens' | 'usd'; session: string }>
> = {
  'claude_code.token.usage': { source: 'claude-code', unit: 'tokens', session: 'session.id' },
  'claude_code.cost.usage': { source: 'claude-code', unit: 'usd', session: 'session.id' },
  'gemini_cli.token.usage': { source: 'gemini-cli', unit: 'tokens', session: 'session.id' },
};

/** One data point of a cross-check counter, ready for the `agent_metric_points` table. */
export interface MetricPoint {
  Timestamp: string;
  metric: string;
  source: string;
  session_id: string;
  model: string;
  token_type: string;
  /** Decimal text (9 decimals at most): never a float in storage. */
  value: string;
  /** 1 delta, 2 cumulative (OTLP AggregationTemporality). */
  temporality: number;
  /** The time series (metric, attributes, start time): cumulative points of one series are not added up. */
  series: string;
  attributes: Record<string, string>;
}

export interface DecodedMetrics {
  points: MetricPoint[];
  /** Data points of cross-check counters refused (bad time or value), with reasons in `errors`. */
  rejected: number;
  /** Metrics that are not cross-check counters (kept out, counted). */
  ignored: number;
  errors: string[];
}

interface OtlpNumberPoint {
  attributes?: OtlpKeyValue[];
  startTimeUnixNano?: string | number;
  timeUnixNano?: string | number;
  asDouble?: number | string;
  asInt?: string | number;
}
interface OtlpMetric {
  name?: string;
  sum?: { dataPoints?: OtlpNumberPoint[]; aggregationTemporality?: number | string };
  gauge?: { dataPoints?: OtlpNumberPoint[] };
}
interface OtlpMetricsRequest {
  resourceMetrics?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeMetrics?: { metrics?: OtlpMetric[] }[];
  }[];
}

const nanosToDateTime = (n: bigint): string => {
  const iso = new Date(Number(n / 1_000_000n)).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${(n % 1_000_000_000n).toString().padStart(9, '0')}`;
};

/** Largest value a counter point may carry (tokens or USD): beyond it the point is refused. */
export const MAX_METRIC_VALUE = 1e12;

/** Checks arrays and objects where OTLP has them, so garbage is a 400 naming the place. */
function assertMetricsShape(request: Record<string, unknown>): OtlpMetricsRequest {
  expectArray(request.resourceMetrics, 'resourceMetrics').forEach((rm, i) => {
    const at = `resourceMetrics[${i}]`;
    const r = expectObject(rm, at);
    if (!r) throw new OtlpDecodeError(`${at}: expected an object, got null.`);
    const resource = expectObject(r.resource, `${at}.resource`);
    if (resource) checkAttributes(resource.attributes, `${at}.resource.attributes`);
    expectArray(r.scopeMetrics, `${at}.scopeMetrics`).forEach((sm, j) => {
      const sat = `${at}.scopeMetrics[${j}]`;
      const scope = expectObject(sm, sat);
      if (!scope) throw new OtlpDecodeError(`${sat}: expected an object, got null.`);
      expectArray(scope.metrics, `${sat}.metrics`).forEach((m, k) => {
        const mat = `${sat}.metrics[${k}]`;
        const metric = expectObject(m, mat);
        if (!metric) throw new OtlpDecodeError(`${mat}: expected an object, got null.`);
        if (metric.name != null && typeof metric.name !== 'string')
          throw new OtlpDecodeError(`${mat}.name: expected a string.`);
        for (const kind of ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary']) {
          const data = expectObject(metric[kind], `${mat}.${kind}`);
          if (!data) continue;
          expectArray(data.dataPoints, `${mat}.${kind}.dataPoints`).forEach((p, n) => {
            const pat = `${mat}.${kind}.dataPoints[${n}]`;
            const point = expectObject(p, pat);
            if (!point) throw new OtlpDecodeError(`${pat}: expected an object, got null.`);
            checkAttributes(point.attributes, `${pat}.attributes`);
          });
        }
      });
    });
  });
  return request;
}

function parse(body: Uint8Array, encoding: OtlpEncoding): OtlpMetricsRequest {
  return assertMetricsShape(
    wellFormedDeep(parseOtlpBody(body, encoding, METRICS_REQUEST, 'resourceMetrics')),
  );
}

/** A point's value: a finite, non-negative number of at most MAX_METRIC_VALUE. */
function pointValue(raw: unknown): number {
  const value =
    typeof raw === 'number'
      ? raw
      : typeof raw === 'string' && raw.trim() !== ''
        ? Number(raw)
        : NaN;
  if (!Number.isFinite(value) || value < 0 || value > MAX_METRIC_VALUE)
    throw new SpanRejectedError(
      `value ${JSON.stringify(raw)} is not a number in 0..${MAX_METRIC_VALUE}`,
    );
  return value;
}

function pointTime(raw: unknown): bigint {
  const text = typeof raw === 'number' && Number.isInteger(raw) ? String(raw) : raw;
  if (typeof text !== 'string' || !/^\d{1,20}$/.test(text))
    throw new SpanRejectedError(`timeUnixNano ${JSON.stringify(raw)} is not an unsigned integer`);
  return checkTime(BigInt(text), 'timeUnixNano');
}

/** Keeps the agents' usage counters of an OTLP metrics body, as points for the cross-check. */
export function decodeMetricsRequest(
  body: Uint8Array,
  encoding: OtlpEncoding,
  limits: DecodeLimits = DECODE_DEFAULTS,
): DecodedMetrics {
  const request = parse(body, encoding);
  const out: DecodedMetrics = { points: [], rejected: 0, ignored: 0, errors: [] };
  for (const rm of request.resourceMetrics ?? []) {
    const resource = attributeMap(rm.resource?.attributes);
    for (const sm of rm.scopeMetrics ?? []) {
      for (const m of sm.metrics ?? []) {
        const spec = CROSS_CHECK_METRICS[m.name ?? ''];
        const data = m.sum ?? m.gauge;
        if (!spec || !data) {
          out.ignored++;
          continue;
        }
        const t: unknown = m.sum?.aggregationTemporality;
        const delta = t === 1 || t === '1' || t === 'AGGREGATION_TEMPORALITY_DELTA';
        const temporality = m.sum && !delta ? 2 : 1;
        for (const p of data.dataPoints ?? []) {
          const attrs: Record<string, string> = {};
          for (const [k, v] of Object.entries({ ...resource, ...attributeMap(p.attributes) }))
            attrs[storedText(k, 256).text] = storedText(v, limits.attributeValueLengthLimit).text;
          let value: number;
          let time: bigint;
          try {
            if (p.asDouble === undefined && p.asInt === undefined)
              throw new SpanRejectedError('a data point without a value');
            value = pointValue(p.asDouble ?? p.asInt);
            time = pointTime(p.timeUnixNano);
          } catch (err) {
            if (!(err instanceof SpanRejectedError)) throw err;
            out.rejected++;
            if (out.errors.length < MAX_DECODE_ERRORS)
              out.errors.push(`${m.name ?? ''}: ${err.message}`);
            continue;
          }
          const start = p.startTimeUnixNano === undefined ? '0' : String(p.startTimeUnixNano);
          const identity = Object.entries(attrs)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([k, v]) => `${k}=${v}`)
            .join('&');
          out.points.push({
            Timestamp: nanosToDateTime(time),
            metric: m.name ?? '',
            source: spec.source,
            session_id: attrs[spec.session] ?? '',
            model: attrs.model ?? '',
            token_type: attrs.type ?? '',
            value: value.toFixed(9),
            temporality,
            series: createHash('sha256')
              .update(`${m.name ?? ''}|${identity}|${start}`)
              .digest('hex')
              .slice(0, 32),
            attributes: attrs,
          });
        }
      }
    }
  }
  return out;
}
