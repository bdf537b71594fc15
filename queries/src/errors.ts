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
