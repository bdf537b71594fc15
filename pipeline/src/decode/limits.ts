/**
 * The decode limits and their defaults, alone: config.ts reads the defaults for every command
 * (the CLI's included), and importing them from validate.ts loaded the SDK's redaction and its
 * secret rules with them (issue 17: a report through the CLI within 2x of curl). validate.ts
 * re-exports both, so the decoders keep importing them from there.
 */

/** Limits applied to every span, log event and metric point on the way in. */
export interface DecodeLimits {
  /**
   * Attributes kept per span (resource and span attributes each); the rest are dropped and the span
   * is marked. OpenTelemetry's OTEL_ATTRIBUTE_COUNT_LIMIT default, 128. @default 128
   */
  attributeCountLimit: number;
  /**
   * Characters kept per attribute value (and status message); longer values are cut and the span
   * is marked. The OTel SDK default is unbounded; a server needs a bound. @default 16384
   */
  attributeValueLengthLimit: number;
}

export const DECODE_DEFAULTS: DecodeLimits = {
  attributeCountLimit: 128,
  attributeValueLengthLimit: 16_384,
};
