/**
 * The spans insert behind both chDB sinks and Kafka enrich: JSONCompactEachRow text (any store),
 * or on chDB RowBinary through a temporary file (`HM_CHDB_INSERT_FORMAT=rowbinary`), which spares
 * chDB's insert thread the JSON parse. Rows the binary writer cannot store exactly as the text
 * would go as text, so both give the same stored rows (test/integration/sink-rowbinary.test.ts).
 */
import {
  chdbInsertTempDir,
  insertCompactRows,
  insertFileRows,
  isChdbStore,
  type ClickHouseClient,
} from '@harness-meter/queries';
import type { PricedSpan } from '../model.js';
import { SPAN_ROWBINARY_STRUCTURE, spanRowsRowBinary } from './rowbinary.js';
import { SPAN_COLUMNS, toSpanValues } from './rows.js';

/** How spans reach chDB. `compact`: JSONCompactEachRow through chDB's raw insert. */
export type ChdbInsertFormat = 'compact' | 'rowbinary';

/** The insert format of a sink on chDB; absent on a ClickHouse server (always text). */
export interface SpanInsertOptions {
  /** @default 'compact' */
  format?: ChdbInsertFormat;
  /** Folder of the RowBinary temporary files (chdbInsertTempDir). Required with `rowbinary`. */
  tempDir?: string;
}

/** The insert format of a chDB sink from the configuration (HM_CHDB_INSERT_FORMAT). */
export const chdbInsertFormat = (config: {
  chdbInsertFormat: ChdbInsertFormat;
  dataDir: string;
}): SpanInsertOptions => ({
  format: config.chdbInsertFormat,
  // Also with `compact`: the write-ahead log replays RowBinary records an earlier run wrote.
  tempDir: chdbInsertTempDir(config.dataDir),
});

/** Inserts priced spans into `table` in the chosen format. */
export async function insertSpans(
  client: ClickHouseClient,
  table: string,
  spans: readonly PricedSpan[],
  settings: Record<string, string | number>,
  options: SpanInsertOptions = {},
): Promise<void> {
  // Only on the client openStore opened on chDB: a wrapped client or a server gets text.
  if (options.format === 'rowbinary' && options.tempDir !== undefined && isChdbStore(client)) {
    const bytes = spanRowsRowBinary(spans);
    if (bytes !== undefined) {
      await insertFileRows(client, {
        table,
        columns: SPAN_COLUMNS,
        bytes,
        structure: SPAN_ROWBINARY_STRUCTURE,
        tempDir: options.tempDir,
        clickhouse_settings: settings,
      });
      return;
    }
  }
  await insertCompactRows(client, {
    table,
    columns: SPAN_COLUMNS,
    rows: spans.map(toSpanValues),
    clickhouse_settings: settings,
  });
}
