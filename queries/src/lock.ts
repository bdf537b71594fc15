import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Who holds a chDB data folder, if anyone. */
export interface FolderLock {
  locked: boolean;
  /** Process id of the holder, when known. */
  pid?: number;
}

/** Whether a process with this id exists (EPERM: it does, owned by another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Tells whether another process holds the chDB data folder. ClickHouse (and so chDB) keeps an
 * exclusive flock on `<folder>/status` and writes its PID there; the lock goes with the process,
 * even on kill -9, while the file may stay behind. On Linux the kernel's lock table decides; elsewhere
 * the PID in the file is checked for life.
 */
export function folderLock(dataDir: string): FolderLock {
  const status = join(dataDir, 'status');
  let inode: number;
  let text = '';
  try {
    inode = statSync(status).ino;
    text = readFileSync(status, 'utf8');
  } catch {
    return { locked: false };
  }
  const pidText = /PID:\s*(\d+)/.exec(text)?.[1];
  const pid = pidText === undefined ? undefined : Number(pidText);
  let table: string | undefined;
  try {
    table = readFileSync('/proc/locks', 'utf8');
  } catch {
    table = undefined;
  }
  if (table !== undefined) {
    const line = table
      .split('\n')
      .find((l) => /\bFLOCK\b/.test(l) && l.split(/\s+/).some((f) => f.endsWith(`:${inode}`)));
    if (!line) return { locked: false };
    const holder = Number(/\bFLOCK\s+\S+\s+\S+\s+(\d+)/.exec(line)?.[1] ?? pid ?? 0);
    return holder === process.pid
      ? { locked: false }
      : { locked: true, ...(holder ? { pid: holder } : {}) };
  }
  if (pid === undefined || pid === process.pid) return { locked: false };
  return pidAlive(pid) ? { locked: true, pid } : { locked: false };
}
