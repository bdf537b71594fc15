import type { RawSpanParts } from '../decode/traces.js';

/**
 * Spans read from transcripts as an OTLP/JSON ExportTraceServiceRequest, so they enter through
 * the same door as every other span (POST /v1/traces, or the same handler on the data folder):
 * one decode, one pricing, one sink with its (TraceId, SpanId) dedup.
 */
export function toOtlpJson(spans: readonly RawSpanParts[]): string {
  const byResource = new Map<string, RawSpanParts[]>();
  for (const s of spans) {
    const key = JSON.stringify(s.resourceAttributes) + '\u0000' + s.scopeName;
    const list = byResource.get(key);
    if (list) list.push(s);
    else byResource.set(key, [s]);
  }
  const attrs = (a: Record<string, string>): { key: string; value: { stringValue: string } }[] =>
    Object.entries(a).map(([key, v]) => ({ key, value: { stringValue: v } }));
  return JSON.stringify({
    resourceSpans: [...byResource.values()].map((list) => ({
      resource: { attributes: attrs(list[0]?.resourceAttributes ?? {}) },
      scopeSpans: [
        {
          scope: { name: list[0]?.scopeName ?? '' },
          spans: list.map((s) => ({
            traceId: s.traceId,
            spanId: s.spanId,
            name: s.name,
            kind: s.kind,
            startTimeUnixNano: s.startTimeUnixNano.toString(),
            endTimeUnixNano: s.endTimeUnixNano.toString(),
            attributes: attrs(s.spanAttributes),
            status: s.statusCode === 0 ? {} : { code: s.statusCode },
          })),
        },
      ],
    })),
  });
}
