import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { openStore } from '@harness-meter/queries';
import { CLI, freePort, waitForExit } from '../helpers/cli.js';
import { kafkaEnv, kafkaTestConfig } from '../helpers/kafka.js';
import { tempDataDir } from '../helpers/store.js';

/** Runs a Kafka-mode stage to its exit; its output is kept for the assertions. */
async function runStage(
  stage: 'enrich' | 'ingest',
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [CLI, 'run', stage], {
    env: { ...process.env, HM_LOG_LEVEL: 'warn', HM_ALERTS: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  try {
    // The lock wait is 15 s (SERVER_LOCK_WAIT_MS); a stage that hangs on open connections never exits.
    const code = await waitForExit(child, 45_000);
    return { code, output };
  } finally {
    child.kill('SIGKILL');
  }
}

describe('a Kafka-mode stage that cannot start exits non-zero (it does not hang)', () => {
  it('enrich, when its data folder is held by another process', async () => {
    const config = kafkaTestConfig('locked');
    const dataDir = tempDataDir('kafka-locked');
    const holder = await openStore({ kind: 'chdb', dataDir }); // this process holds the folder
    try {
      const r = await runStage('enrich', {
        ...kafkaEnv(config),
        HM_DATA_DIR: dataDir,
        HM_PORT: String(await freePort()),
      });
      expect(r.code).toBe(1);
      expect(r.output).toMatch(/error.*(lock|in use|held)/i);
    } finally {
      await holder.close();
    }
  });

  it('ingest, when its port is taken after it joined Kafka: closes its connections and exits', async () => {
    const config = kafkaTestConfig('port-taken');
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = taken.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const r = await runStage('ingest', {
        ...kafkaEnv(config),
        HM_PORT: String(port),
        HM_DATA_DIR: tempDataDir('kafka-port'),
      });
      expect(r.code).toBe(1);
      expect(r.output).toMatch(/is already in use/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
