/** Machine-readable codes of pipeline errors. */
export type PipelineErrorCode =
  | 'CONFIG_INVALID'
  | 'BAD_REQUEST'
  | 'UNPROCESSABLE'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'SINK_FAILED'
  | 'STORE_BEHIND'
  | 'SERVER_UNREACHABLE';

/** Pipeline errors: a code, whether retrying can help, and the cause. */
export class PipelineError extends Error {
  readonly code: PipelineErrorCode;
  readonly retriable: boolean;
  constructor(
    code: PipelineErrorCode,
    message: string,
    options: { retriable?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PipelineError';
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** A configuration value is missing or malformed; the message names the variable and an example. */
export class ConfigError extends PipelineError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
    this.name = 'ConfigError';
  }
}
