import { accessSync, constants, readdirSync, statSync, unlinkSync } from 'node:fs';
import { open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { isChdbStore } from './client.js';
import { StoreError } from './errors.js';
import { pidAlive } from './lock.js';

/** Rows already written in a binary input format, for insertFileRows. */
export interface FileRowsInsert {
  /** `db.table` */
  table: string;
  columns: readonly string[];
  /**
   * The rows, in `format`, each with the columns of `structure` in order; or several chunks of
   * whole rows, written to the file one after the other (no copy into one buffer).
   */
  bytes: Uint8Array | readonly Uint8Array[];
  /** @default 'RowBinary' */
  format?: 'RowBinary' | 'Native';
  /** `file()` structure: `name Type, …` in the order of `columns`. */
  structure: string;
  /** Folder for the temporary file (see chdbInsertTempDir). */
  tempDir: string;
  clickhouse_settings?: Record<string, string | number>;
}

let sequence = 0;
const processTag = `${process.pid}-${randomBytes(4).toString('hex')}`;

/**
 * Inserts binary rows into chDB through a temporary file: `INSERT INTO t (cols) SELECT * FROM
 * file(path, 'RowBinary', structure)`. chDB's raw insert takes text formats only, but it reads any
 * format from a file, and a binary format spares its single insert thread the JSON parse.
 * Materialized views fire as for any insert. The file has a unique name and is removed after the
 * insert, also when it fails. chDB only: a ClickHouse server cannot read this process's files.
 */
export async function insertFileRows(
  client: ClickHouseClient,
  insert: FileRowsInsert,
): Promise<void> {
  const chunks: readonly Uint8Array[] = Array.isArray(insert.bytes)
    ? insert.bytes
    : [insert.bytes as Uint8Array];
  if (chunks.every((c) => c.length === 0)) return;
  if (!isChdbStore(client))
    throw new StoreError(
      'INVALID_ARGUMENT',
      'insertFileRows works on a chDB data folder only; insert into a ClickHouse server with insertCompactRows.',
      { retriable: false },
    );
  const path = join(insert.tempDir, `hm-insert-${processTag}-${++sequence}.bin`);
  const format = insert.format ?? 'RowBinary';
  try {
    await writeChunks(path, chunks);
    await client.command({
      query: `INSERT INTO ${insert.table} (${insert.columns.join(', ')}) SELECT * FROM file(${quote(path)}, '${format}', ${quote(insert.structure)})`,
      ...(insert.clickhouse_settings ? { clickhouse_settings: insert.clickhouse_settings } : {}),
    });
  } finally {
    await rm(path, { force: true });
  }
}

/** Most buffers one writev takes (IOV_MAX is 1024 on Linux). */
const WRITEV_MAX = 1024;

/**
 * Writes the chunks to a new file with writev: a write-ahead log batch is thousands of records,
 * and joining them first (Buffer.concat) cost about 1.2 µs per span on the main thread plus the
 * garbage of a 48 MiB buffer per batch (bench/ingest.js CPU profile).
 */
async function writeChunks(path: string, chunks: readonly Uint8Array[]): Promise<void> {
  if (chunks.length === 1) {
    await writeFile(path, chunks[0]!);
    return;
  }
  const file = await open(path, 'w');
  try {
    for (let i = 0; i < chunks.length; i += WRITEV_MAX) {
      const part = chunks.slice(i, i + WRITEV_MAX);
      let { bytesWritten } = await file.writev(part);
      // A short write (rare; a full disk throws): write the rest of this part one by one.
      for (const c of part) {
        if (bytesWritten >= c.length) {
          bytesWritten -= c.length;
          continue;
        }
        await file.write(c, bytesWritten);
        bytesWritten = 0;
      }
    }
  } finally {
    await file.close();
  }
}

/** A ClickHouse string literal (the path and structure are ours; quoted all the same). */
const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * Where insertFileRows writes its temporary files: `/dev/shm` (memory) when it is a writable
 * folder, else `fallback` (e.g. the data folder).
 */
export function chdbInsertTempDir(fallback: string): string {
  let dir = fallback;
  try {
    if (statSync('/dev/shm').isDirectory()) {
      accessSync('/dev/shm', constants.W_OK);
      dir = '/dev/shm';
    }
  } catch {
    // no /dev/shm here
  }
  removeStaleInsertFiles(dir);
  return dir;
}

/**
 * Removes the temporary insert files of processes that are gone (a process killed inside an insert
 * cannot remove its own; in /dev/shm they would hold memory). Returns how many were removed.
 */
export function removeStaleInsertFiles(dir: string): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const pid = /^hm-insert-(\d+)-[0-9a-f]+-\d+\.bin$/.exec(name)?.[1];
    if (pid === undefined || Number(pid) === process.pid || pidAlive(Number(pid))) continue;
    try {
      unlinkSync(join(dir, name));
      removed++;
    } catch {
      // removed meanwhile, or not ours to remove
    }
  }
  return removed;
}
