import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/cli.js';

// Installable packages (issue 14): what `npm pack` ships, and a real install of the packed
// tarballs into an empty folder outside the repository, used the way a new user would.
const root = fileURLToPath(new URL('../../', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface PackFile {
  path: string;
}

function packList(dir: string): { name: string; files: string[] } {
  const out = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: join(root, dir),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [info] = JSON.parse(out) as { name: string; files: PackFile[] }[];
  return { name: info?.name ?? '', files: (info?.files ?? []).map((f) => f.path) };
}

describe('npm pack', () => {
  for (const dir of ['instrumentation', 'pipeline', 'queries']) {
    it(`${dir}: README, LICENSE, types, source maps whose sources ship, repository and engines`, () => {
      const { files } = packList(dir);
      const entry =
        dir === 'pipeline'
          ? ['bin/harness-meter.js', 'dist/cli.js', 'dist/cli.d.ts']
          : ['dist/index.js', 'dist/index.d.ts'];
      for (const f of ['README.md', 'LICENSE', 'package.json', ...entry])
        expect(files, f).toContain(f);
      const shipped = new Set(files);
      const maps = files.filter((f) => f.endsWith('.map'));
      expect(maps.length).toBeGreaterThan(0);
      for (const m of maps) {
        const map = JSON.parse(readFileSync(join(root, dir, m), 'utf8')) as { sources: string[] };
        for (const s of map.sources)
          expect(shipped, `${m} → ${s}`).toContain(normalize(join(dirname(m), s)));
      }
      const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as {
        repository?: { url?: string; directory?: string };
        engines?: { node?: string };
        license?: string;
      };
      expect(pkg.repository).toMatchObject({ directory: dir });
      expect(pkg.engines?.node).toMatch(/20\.19/);
      expect(pkg.license).toBe('Apache-2.0');
    });
  }

  it('the SDK depends on OpenTelemetry packages only, without the NodeSDK', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'instrumentation/package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const deps = Object.keys(pkg.dependencies);
    expect(deps.every((d) => d.startsWith('@opentelemetry/'))).toBe(true);
    expect(deps).not.toContain('@opentelemetry/sdk-node');
    expect(deps).toContain('@opentelemetry/sdk-trace-node');
  });
});

describe('installed from the packed tarballs, outside the repository', () => {
  const work = mkdtempSync(join(tmpdir(), 'hm-install-'));
  const app = join(work, 'app');
  let server: ReturnType<typeof spawn> | undefined;
  afterAll(async () => {
    server?.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    rmSync(work, { recursive: true, force: true }); // ~600 MB with chDB's engine
  });

  it('runs npx harness-meter --version, start, demo and a report', async () => {
    for (const dir of ['instrumentation', 'queries', 'pipeline'])
      execFileSync(npm, ['pack', '--ignore-scripts', '--pack-destination', work], {
        cwd: join(root, dir),
        stdio: 'ignore',
      });
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), '{"name":"hm-install-check","private":true}\n');
    const tarballs = [
      'harness-meter-instrumentation-0.1.0.tgz',
      'harness-meter-queries-0.1.0.tgz',
      'harness-meter-0.1.0.tgz',
    ];
    // Dependencies come from the registry (the npm cache first: chDB's engine is large).
    const install = spawnSync(
      npm,
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        ...tarballs.map((t) => join(work, t)),
      ],
      { cwd: app, encoding: 'utf8', timeout: 600_000 },
    );
    expect(install.status, install.stderr).toBe(0);
    expect(existsSync(join(app, 'node_modules/harness-meter/README.md'))).toBe(true);

    const env = { ...process.env, HM_LOG_LEVEL: 'warn', HM_KAFKA_BROKERS: '' };
    const npx = (args: string[], extra: Record<string, string> = {}) =>
      spawnSync('npx', ['--no-install', 'harness-meter', ...args], {
        cwd: app,
        encoding: 'utf8',
        env: { ...env, ...extra },
        timeout: 120_000,
      });
    const version = npx(['--version']);
    expect(version.stdout.trim()).toBe('0.1.0');

    const port = await freePort();
    const hm = {
      HM_PORT: String(port),
      HM_API_URL: `http://127.0.0.1:${port}`,
      HM_BATCH_MAX_WAIT_MS: '10',
    };
    server = spawn('npx', ['--no-install', 'harness-meter', 'start'], {
      cwd: app,
      env: { ...env, ...hm },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    server.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    server.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 120_000;
    for (;;) {
      const up = await fetch(`${hm.HM_API_URL}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      if (Date.now() > deadline || server.exitCode !== null)
        throw new Error(`no server: ${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(output).toContain(`${hm.HM_API_URL}/v1/traces`);
    expect(existsSync(join(app, '.harness-meter'))).toBe(true);

    const demo = npx(['demo'], hm);
    expect(demo.status, demo.stderr).toBe(0);
    const report = npx(['report', 'cost-per-pr', '--json'], hm);
    expect(report.status, report.stderr).toBe(0);
    const rows = (JSON.parse(report.stdout) as { rows: { llm_calls: number }[] }).rows;
    expect(rows.reduce((n, r) => n + r.llm_calls, 0)).toBe(21);
  }, 900_000);
});
