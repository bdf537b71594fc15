import { createHash } from 'node:crypto';
import type { OtlpKeyValue } from './otlp-object.js';
import { parseOtlpBody } from './proto.js';
import { attributeMap, MAX_DECODE_ERRORS, type OtlpEncoding } from './traces.js';

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

function parse(body: Uint8Array, encoding: OtlpEncoding): OtlpMetricsRequest {
  return parseOtlpBody(body, encoding, METRICS_REQUEST, 'resourceMetrics');
}

/** Keeps the agents' usage counters of an OTLP metrics body, as points for the cross-check. */
export function decodeMetricsRequest(body: Uint8Array, encoding: OtlpEncoding): DecodedMetrics {
  const request = parse(body, encoding);
  const out: DecodedMetrics = { points: [], ignored: 0, errors: [] };
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
        const temporality = m.sum ? Number(m.sum.aggregationTemporality ?? 2) : 1;
        for (const p of data.dataPoints ?? []) {
          const attrs = { ...resource, ...attributeMap(p.attributes) };
          const raw = p.asDouble ?? p.asInt;
          const value = Number(raw);
          const time =
            typeof p.timeUnixNano === 'string' || typeof p.timeUnixNano === 'number'
              ? BigInt(p.timeUnixNano)
              : 0n;
          if (raw === undefined || !Number.isFinite(value) || value < 0 || time === 0n) {
            if (out.errors.length < MAX_DECODE_ERRORS)
              out.errors.push(`${m.name}: a data point without a time or a non-negative value`);
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
