/** The body could not be read as an OTLP export request at all (bad data: HTTP 400, Kafka DLQ). */
export class OtlpDecodeError extends Error {
  readonly code = 'OTLP_DECODE_FAILED' as const;
  readonly retriable = false as const;
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OtlpDecodeError';
  }
}
