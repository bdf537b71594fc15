import { describe, expect, it } from 'vitest';
import { freePort, runCli, startServerProcess, waitForExit } from '../helpers/cli.js';
import { tempDataDir } from '../helpers/store.js';

/** `keys` on the data folder and through a running server; the non-loopback start policy. */
describe('harness-meter keys and the start policy (CLI)', () => {
  it('refuses a non-loopback start without a key; keys made on the folder let it start; the CLI sends HM_API_KEY', async () => {
    const dataDir = tempDataDir('auth-cli');
    const port = await freePort();
    const env = {
      HM_DATA_DIR: dataDir,
      HM_PORT: String(port),
      HM_API_URL: `http://127.0.0.1:${port}`,
      HM_ALERTS: 'off',
    };
    const refused = runCli(['start'], { ...env, HM_HOST: '0.0.0.0' });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(
      /HM_HOST=0\.0\.0\.0 is not a loopback address and no API key exists/,
    );
    expect(refused.stderr).toMatch(/harness-meter keys create --role admin/);

    // No server runs: the CLI writes the key to the data folder and prints it once, last.
    const created = runCli(['keys', 'create', '--role', 'admin', '--name', 'ops'], env);
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    const lines = created.stdout.trim().split('\n');
    const admin = lines.at(-1) ?? '';
    expect(admin).toMatch(/^hm_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const adminId = admin.slice(3, 15);
    const listed = runCli(['keys', 'list'], env);
    expect(listed.status).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${adminId}\\s+admin\\s+ops`));
    expect(listed.stdout).not.toContain(admin.slice(16));

    const server = await startServerProcess({ ...env, HM_HOST: '0.0.0.0' });
    try {
      const anonymous = runCli(['report', 'cost', '--since', '1d'], env);
      expect(anonymous.status).toBe(1);
      expect(anonymous.stderr).toMatch(/refused the request \(401\).*Set HM_API_KEY/);
      const withKey = runCli(['report', 'cost', '--since', '1d'], { ...env, HM_API_KEY: admin });
      expect(withKey.stderr).toBe('');
      expect(withKey.status).toBe(0);

      // Through the running server (it holds the folder): create a bound ingest key, then revoke it.
      const ingest = runCli(
        ['keys', 'create', '--role', 'ingest', '--team', 'payments', '--developer', 'ana'],
        { ...env, HM_API_KEY: admin },
      );
      expect(ingest.status).toBe(0);
      expect(ingest.stdout).toMatch(/in the server at http:\/\/127\.0\.0\.1/);
      expect(ingest.stdout).toMatch(/bound to team payments, developer ana/);
      const ingestKey = ingest.stdout.trim().split('\n').at(-1) ?? '';
      const ingestId = ingestKey.slice(3, 15);
      const json = runCli(['keys', 'list', '--format', 'json'], { ...env, HM_API_KEY: admin });
      const keys = JSON.parse(json.stdout) as { id: string; role: string; team: string }[];
      expect(keys.map((k) => [k.id, k.role, k.team])).toEqual([
        [adminId, 'admin', ''],
        [ingestId, 'ingest', 'payments'],
      ]);
      // An ingest key may not manage keys.
      const denied = runCli(['keys', 'list'], { ...env, HM_API_KEY: ingestKey });
      expect(denied.status).toBe(1);
      expect(denied.stderr).toMatch(/\(403\)/);
      const revoked = runCli(['keys', 'revoke', ingestId], { ...env, HM_API_KEY: admin });
      expect(revoked.status).toBe(0);
      expect(revoked.stdout).toMatch(new RegExp(`key ${ingestId} revoked at`));
    } finally {
      server.child.kill('SIGINT');
      await waitForExit(server.child);
    }
  });

  it('HM_AUTH=off starts a non-loopback server with no key, and says so loudly', async () => {
    const port = await freePort();
    const server = await startServerProcess({
      HM_DATA_DIR: tempDataDir('auth-off'),
      HM_PORT: String(port),
      HM_HOST: '0.0.0.0',
      HM_AUTH: 'off',
      HM_ALERTS: 'off',
    });
    try {
      expect(server.output()).toMatch(/HM_AUTH=off: NO AUTHENTICATION/);
      const res = await fetch(`${server.url}/api/v1/reports/cost`);
      expect(res.status).toBe(200);
    } finally {
      server.child.kill('SIGINT');
      await waitForExit(server.child);
    }
  });
});
