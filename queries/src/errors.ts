/** Machine-readable error codes raised by the storage layer. */
export type StoreErrorCode =
  | 'DATA_FOLDER_LOCKED'
  | 'STORE_UNAVAILABLE'
  | 'MIGRATION_FAILED'
  | 'INVALID_ARGUMENT'
  | 'QUERY_FAILED';

/** Every storage error carries a code, whether a retry can help, and the underlying cause. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  readonly retriable: boolean;
  constructor(
    code: StoreErrorCode,
    message: string,
    options: { retriable?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StoreError';
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** The chDB data folder is held by another process (usually a running `harness-meter start`). */
export class DataFolderLockedError extends StoreError {
  readonly dataDir: string;
  readonly pid: number | undefined;
  constructor(dataDir: string, cause: unknown, pid?: number) {
    super(
      'DATA_FOLDER_LOCKED',
      `The data folder ${dataDir} is in use by another process${pid ? ` (pid ${pid})` : ''} (chDB allows one process per folder). ` +
        'If `harness-meter start` is running, query it over HTTP instead (the CLI does this when HM_API_URL points at it), ' +
        'or stop it first, or use another folder with HM_DATA_DIR.',
      { retriable: true, cause },
    );
    this.name = 'DataFolderLockedError';
    this.dataDir = dataDir;
    this.pid = pid;
  }
}

/** The message of anything thrown. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** ClickHouse error names (`type`, as the HTTP client and chDB report them) caused by the values sent. */
const DATA_ERROR_TYPES: ReadonlySet<string> = new Set([
  'ARGUMENT_OUT_OF_BOUND',
  'BAD_ARGUMENTS',
  'CANNOT_CONVERT_TYPE',
  'CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN',
  'DECIMAL_OVERFLOW',
  'ILLEGAL_TYPE_OF_ARGUMENT',
  'INCORRECT_DATA',
  'INCORRECT_NUMBER_OF_COLUMNS',
  'TOO_LARGE_STRING_SIZE',
  'TYPE_MISMATCH',
  'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE',
  'VIOLATED_CONSTRAINT',
]);

/**
 * Whether ClickHouse refused a query or insert because of the values in it (permanent: the same
 * values fail the same way), not because of its own state. Follows `cause` chains (a StoreError
 * wrapping a ClickHouse error).
 */
export function isClickHouseDataError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    if (typeof e !== 'object') return false;
    const type = (e as { type?: unknown }).type;
    if (
      typeof type === 'string' &&
      (DATA_ERROR_TYPES.has(type) ||
        type.startsWith('CANNOT_PARSE') ||
        type.startsWith('CANNOT_READ'))
    )
      return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
