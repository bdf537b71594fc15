import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type ClickHouseClient } from '@harness-meter/queries';

/**
 * A fresh chDB data folder for this test file. libchdb binds one folder per process, and vitest
 * runs each test file in its own fork, so one folder per file is the rule.
 */
export function tempDataDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `hm-${label}-`));
}

export async function openTempStore(
  label: string,
): Promise<{ client: ClickHouseClient; dataDir: string }> {
  const dataDir = tempDataDir(label);
  const client = await openStore({ kind: 'chdb', dataDir });
  return { client, dataDir };
}
