import { mkdirSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatUsd } from '@harness-meter/queries';
import { freePort, reportRows, runCli, startServerProcess } from '../helpers/cli.js';
import { launchChromium, seriousA11yViolations } from '../helpers/browser.js';
import { tempDataDir } from '../helpers/store.js';

// The dashboard in a real Chromium against a real `harness-meter start` with the demo's sessions:
// every number checked here is also asked of the API or the CLI in the same test.

const SHOTS = fileURLToPath(new URL('../screenshots/', import.meta.url));
const SIZES = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;

let server: { child: ChildProcess; url: string; output: () => string };
let env: Record<string, string>;
let browser: Browser;
let context: BrowserContext;
const consoleErrors: string[] = [];

/** Same text as the page's usd(): 4 decimals under $100. */
const usd = (nanos: string): string =>
  `$${formatUsd(BigInt(nanos), BigInt(nanos) < 100_000_000_000n ? 4 : 2)}`;

async function api<T>(route: string, params: Record<string, string> = {}): Promise<T[]> {
  const res = await fetch(
    `${server.url}/api/v1/${route}?${new URLSearchParams(params).toString()}`,
  );
  expect(res.status, route).toBe(200);
  return ((await res.json()) as { rows: T[] }).rows;
}

async function open(hash: string, size: keyof typeof SIZES = 'desktop'): Promise<Page> {
  const page = await context.newPage();
  await page.setViewportSize(SIZES[size]);
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`${hash}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`${hash}: ${e.message}`));
  await page.goto(`${server.url}/${hash}`);
  return page;
}

/** Waits until nothing on the page is loading. */
async function settled(page: Page): Promise<void> {
  // (Not waitForFunction: it evaluates a string in the page, which the page's CSP forbids.)
  await expect.poll(() => page.locator('#app .loading').count(), { timeout: 30_000 }).toBe(0);
}

interface Summary {
  cost_nanos: string;
  llm_calls: number;
}

beforeAll(async () => {
  const port = await freePort();
  env = {
    HM_DATA_DIR: tempDataDir('dashboard'),
    HM_PORT: String(port),
    HM_BATCH_MAX_WAIT_MS: '10',
    HM_DETECT_IDLE_MS: '100',
    HM_API_URL: `http://127.0.0.1:${String(port)}`,
  };
  server = await startServerProcess(env);
  const demo = runCli(['demo', '--endpoint', `${server.url}/v1/traces`], env);
  expect(demo.status, demo.stderr).toBe(0);
  browser = await launchChromium();
  context = await browser.newContext({ colorScheme: 'light' });
  mkdirSync(SHOTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  server?.child.kill('SIGTERM');
});

describe('dashboard in Chromium, against harness-meter start with the demo data', () => {
  it('serves the page with a strict CSP and immutable hashed assets', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const html = await res.text();
    const js = /src="(\/assets\/main-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    expect(js).toBeDefined();
    const asset = await fetch(`${server.url}${js!}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${server.url}/assets/nope.js`)).status).toBe(404);
    // Bad parameters answer 400 with a reason, and the server keeps serving.
    for (const q of ['dashboard/series?by=nope', 'dashboard/session', 'dashboard/series?step=5']) {
      const bad = await fetch(`${server.url}/api/v1/${q}`);
      expect(bad.status, q).toBe(400);
      expect(((await bad.json()) as { error: string }).error.length).toBeGreaterThan(10);
    }
    // The embedded server serves its own metrics too (deploy/prometheus.yml scrapes them).
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^harness_meter_spans_stored_total [1-9]\d*$/m);
  });

  it('overview total equals the API total, and the CLI cost report sums to it', async () => {
    const [summary] = await api<Summary>('dashboard/summary', { since: '7d' });
    expect(summary!.llm_calls).toBeGreaterThan(0);
    const cli = runCli(
      ['report', 'cost', '--by', 'model', '--since', '7d', '--format', 'json'],
      env,
    );
    expect(cli.stderr).toBe('');
    const byModel = reportRows<{ cost_nanos: string | null }>(cli.stdout);
    expect(byModel.reduce((t, r) => t + BigInt(r.cost_nanos ?? 0), 0n).toString()).toBe(
      summary!.cost_nanos,
    );
    const page = await open('#/overview?since=7d');
    await settled(page);
    await expect
      .poll(() => page.getByTestId('total-cost').textContent())
      .toBe(usd(summary!.cost_nanos));
    // The demo's self-hosted model has no price: shown as unpriced, never $0.
    expect(await page.getByTestId('unpriced').textContent()).toMatch(/^\d+ unpriced$/);
    expect(await page.locator('.chart canvas').count()).toBeGreaterThan(0);
    await page.close();
  });

  it('PR table rows equal `report cost-per-pr --format json`', async () => {
    const cli = runCli(['report', 'cost-per-pr', '--since', '7d', '--format', 'json'], env);
    expect(cli.stderr).toBe('');
    const rows = reportRows<{
      repo: string;
      pr: number | null;
      cost_nanos: string | null;
    }>(cli.stdout);
    expect(rows.length).toBeGreaterThanOrEqual(4);
    const page = await open('#/prs?since=7d');
    await settled(page);
    const trs = page.locator('[data-testid="pr-table"] tbody tr');
    const shown: { pr: string; nanos: string }[] = [];
    for (let i = 0; i < (await trs.count()); i++)
      shown.push({
        pr: (await trs.nth(i).locator('td').nth(1).textContent()) ?? '',
        nanos: (await trs.nth(i).locator('[data-nanos]').getAttribute('data-nanos')) ?? '',
      });
    expect(shown).toEqual(
      rows.map((r) => ({
        pr: r.pr === null ? '(unattributed)' : `#${String(r.pr)}`,
        nanos: r.cost_nanos ?? '', // null: nothing priced (the page says "unpriced")
      })),
    );
    await page.close();
  });

  it("the demo's deliberate re-read is on its session timeline, with its dollars", async () => {
    const cli = runCli(
      ['report', 'waste', '--by', 'session', '--since', '7d', '--format', 'json'],
      env,
    );
    const waste = reportRows<{
      key: string;
      direct_cost_nanos: string;
      carried_cost_nanos: string;
    }>(cli.stdout).find((r) => r.key === 'demo-session-ana-1');
    expect(waste).toBeDefined();
    // PR list → PR 101 → its session → the waterfall, by clicks.
    const page = await open('#/prs?since=7d');
    await settled(page);
    await page.getByRole('link', { name: '#101' }).click();
    await settled(page);
    await page.getByRole('link', { name: 'demo-session-ana-1' }).click();
    await settled(page);
    const flags = page.getByTestId('waste-flag');
    await expect.poll(() => flags.count()).toBe(1);
    const spans = await api<{ span_id: string; waste: { repeats_span_id: string } | null }>(
      'dashboard/session',
      { session: 'demo-session-ana-1' },
    );
    const repeated = spans.findIndex(
      (s) => s.span_id === spans.find((w) => w.waste)?.waste?.repeats_span_id,
    );
    expect(repeated).toBeGreaterThan(0);
    const n = `#${String(repeated + 1)}`;
    expect(await flags.first().textContent()).toBe(
      `re_read of ${n} · direct ${usd(waste!.direct_cost_nanos)} · carried ${usd(waste!.carried_cost_nanos)}`,
    );
    // The details panel names the call it repeats; the button there jumps to it.
    await page
      .getByTestId('call-details')
      .getByRole('button', { name: `call ${n}` })
      .click();
    expect(await page.getByTestId('call-details').textContent()).toContain('Tool call: Read');
    expect(page.url()).toContain('#/session/demo-session-ana-1');
    await page.close();
  });

  it('filters and the time range change the numbers as the API does; the URL restores the view', async () => {
    const [all] = await api<Summary>('dashboard/summary', { since: '7d' });
    const [payments] = await api<Summary>('dashboard/summary', { since: '7d', team: 'payments' });
    expect(payments!.cost_nanos).not.toBe(all!.cost_nanos);
    const page = await open('#/overview?since=7d');
    await settled(page);
    await page.locator('select[name=team]').selectOption('payments');
    await expect
      .poll(() => page.getByTestId('total-cost').textContent())
      .toBe(usd(payments!.cost_nanos));
    expect(page.url()).toContain('team=payments');
    // A window that ends before the demo ran: the API has nothing, the page says how to send data.
    const until = new Date(Date.now() - 3 * 3_600_000).toISOString();
    const [before] = await api<Summary>('dashboard/summary', { since: '7d', until });
    expect(before!.llm_calls).toBe(0);
    await page.goto(`${server.url}/#/overview?since=7d&until=${until}`);
    await settled(page);
    await expect
      .poll(() => page.getByRole('heading', { name: 'No agent spend in this window' }).count())
      .toBe(1);
    await page.close();

    // A shared link restores filters and the series dimension.
    const restored = await open('#/overview?by=developer&since=7d&team=payments');
    await settled(restored);
    expect(await restored.locator('select[name=team]').inputValue()).toBe('payments');
    expect(await restored.locator('select[name=by]').inputValue()).toBe('developer');
    expect(await restored.getByTestId('total-cost').textContent()).toBe(usd(payments!.cost_nanos));
    await restored.close();
  });

  it('every page: no serious or critical axe violations, screenshots at 1280×800 and phone width', async () => {
    const pages: [string, string][] = [
      ['overview', '#/overview?since=7d'],
      ['pull-requests', '#/prs?since=7d'],
      [
        'pr-sessions',
        `#/pr/${encodeURIComponent('https://github.com/acme/payments-api')}/101?since=7d`,
      ],
      ['session-timeline', '#/session/demo-session-ana-1?since=7d'],
      ['waste', '#/waste?since=7d'],
      ['alerts', '#/alerts?since=7d'],
    ];
    for (const [name, hash] of pages)
      for (const size of Object.keys(SIZES) as (keyof typeof SIZES)[]) {
        const page = await open(hash, size);
        await settled(page);
        await page.screenshot({ path: `${SHOTS}${name}-${size}.png` });
        if (size === 'desktop') expect(await seriousA11yViolations(page), name).toEqual([]);
        await page.close();
      }
  }, 120_000);

  it('is usable with the keyboard: skip link, then the navigation', async () => {
    const page = await open('#/overview?since=7d');
    await settled(page);
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Skip to content');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Pull requests');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.url()).toContain('#/prs');
    await page.close();
  });

  it('asks for a read key on 401, then sends it as a bearer token', async () => {
    // The server on this branch has no keys: the API's 401 is played by the browser's request routing.
    const page = await context.newPage();
    const auth: string[] = [];
    await page.route('**/api/v1/**', async (route) => {
      const header = route.request().headers().authorization ?? '';
      auth.push(header);
      if (header === 'Bearer hm_read_test') await route.continue();
      else
        await route.fulfill({
          status: 401,
          contentType: 'application/json',
          body: JSON.stringify({ error: 'an API key is required' }),
        });
    });
    await page.goto(`${server.url}/#/overview?since=7d`);
    const alert = page.getByRole('alert').first();
    await expect.poll(() => alert.textContent()).toContain('needs an API key with the read role');
    await alert.getByLabel('API key (read role), kept for this tab only').fill('hm_read_test');
    await alert.getByRole('button', { name: 'Use key' }).click();
    await expect.poll(() => page.getByTestId('total-cost').count(), { timeout: 30_000 }).toBe(1);
    expect(auth.at(-1)).toBe('Bearer hm_read_test');
    expect(await page.evaluate("sessionStorage.getItem('harness-meter.api-key')")).toBe(
      'hm_read_test',
    );
    await page.close();
  });

  it('follows a dark system theme (session timeline, checked by axe too)', async () => {
    const dark = await browser.newContext({ colorScheme: 'dark' });
    const page = await dark.newPage();
    page.on('pageerror', (e) => consoleErrors.push(`dark: ${e.message}`));
    await page.setViewportSize(SIZES.desktop);
    await page.goto(`${server.url}/#/session/demo-session-ana-1?since=7d`);
    await settled(page);
    expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe(
      'rgb(18, 20, 23)',
    );
    await page.screenshot({ path: `${SHOTS}session-timeline-desktop-dark.png` });
    expect(await seriousA11yViolations(page)).toEqual([]);
    await dark.close();
  });

  it('logged no console errors', () => {
    expect(consoleErrors).toEqual([]);
  });
});
