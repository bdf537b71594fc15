/**
 * The two small OTLP/HTTP response messages, encoded by hand so the receiver's error path needs
 * no schema: ExportTraceServiceResponse { partial_success { rejected_spans, error_message } } and
 * google.rpc.Status { code, message }.
 */

function varint(n: bigint): number[] {
  const out: number[] = [];
  let v = n;
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}

function lengthDelimited(field: number, payload: Uint8Array): number[] {
  return [...varint(BigInt((field << 3) | 2)), ...varint(BigInt(payload.length)), ...payload];
}

function varintField(field: number, value: bigint): number[] {
  return value === 0n ? [] : [...varint(BigInt(field << 3)), ...varint(value)];
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export interface PartialSuccess {
  rejected: number;
  message: string;
}

/** ExportTraceServiceResponse as protobuf bytes (empty when everything was accepted). */
export function encodeExportResponseProto(partial?: PartialSuccess): Uint8Array {
  if (!partial || (partial.rejected === 0 && partial.message === '')) return new Uint8Array(0);
  const inner = [
    ...varintField(1, BigInt(partial.rejected)),
    ...(partial.message ? lengthDelimited(2, utf8(partial.message)) : []),
  ];
  return Uint8Array.from(lengthDelimited(1, Uint8Array.from(inner)));
}

/** ExportTraceServiceResponse as OTLP/JSON. */
export function encodeExportResponseJson(
  partial?: PartialSuccess,
  rejectedKey: 'rejectedSpans' | 'rejectedLogRecords' | 'rejectedDataPoints' = 'rejectedSpans',
): string {
  if (!partial || (partial.rejected === 0 && partial.message === '')) return '{}';
  return JSON.stringify({
    partialSuccess: { [rejectedKey]: String(partial.rejected), errorMessage: partial.message },
  });
}

/** google.rpc.Status codes used here. */
export const RPC_CODE = {
  invalidArgument: 3,
  resourceExhausted: 8,
  unavailable: 14,
  internal: 13,
} as const;

/** google.rpc.Status as protobuf bytes. */
export function encodeStatusProto(code: number, message: string): Uint8Array {
  return Uint8Array.from([...varintField(1, BigInt(code)), ...lengthDelimited(2, utf8(message))]);
}
