import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../../pipeline/src/ingest/server.js';

/** The HTTP server's own bounds, on a receiver with no store (127.0.0.1 only, bounded loops). */
const MAX_CONNECTIONS = 8;
let receiver: Receiver;
let port: number;

beforeAll(async () => {
  receiver = await startReceiver({
    host: '127.0.0.1',
    port: 0,
    maxBodyBytes: 1024,
    limits: { maxConnections: MAX_CONNECTIONS, headersTimeoutMs: 1500, keepAliveTimeoutMs: 500 },
    onTraces: () => Promise.resolve({ rejected: 0, message: '' }),
    api: { 'reports/x': () => Promise.resolve({ rows: [] }) },
    pages: (path) =>
      path === '/dashboard/'
        ? { status: 200, contentType: 'text/html; charset=utf-8', body: '<h1>hm</h1>' }
        : undefined,
  });
  port = receiver.port;
});
afterAll(async () => {
  await receiver.close();
});

/** A socket that sent the start of a request and then stalls (a slowloris client). */
function stalled(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
      resolve(s);
    });
    s.on('error', reject);
  });
}

/** Resolves with how the socket ended: the first bytes it got, and whether it was closed. */
function outcome(s: Socket, waitMs: number): Promise<{ closed: boolean; data: string }> {
  return new Promise((resolve) => {
    let data = '';
    const done = (closed: boolean): void => {
      clearTimeout(timer);
      resolve({ closed, data });
    };
    const timer = setTimeout(() => done(false), waitMs);
    s.on('data', (d: Buffer) => (data += d.toString()));
    s.on('close', () => done(true));
    s.on('error', () => undefined);
  });
}

describe('HTTP server limits', () => {
  it('caps open connections: one past the cap is closed unanswered, the server serves again after', async () => {
    const held: Socket[] = [];
    for (let i = 0; i < MAX_CONNECTIONS; i++) held.push(await stalled());
    // Past the cap the socket is accepted by the kernel and closed by the server at once (or refused).
    const extra = await stalled().catch(() => undefined);
    const r = extra ? await outcome(extra, 1000) : { closed: true, data: '' };
    expect(r).toEqual({ closed: true, data: '' });
    for (const s of held) s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect((await fetch(`${receiver.url}/healthz`)).status).toBe(200);
  });

  it('closes a client that never finishes its headers (header timeout)', async () => {
    const s = await stalled();
    const r = await outcome(s, 5000);
    expect(r.closed).toBe(true);
    expect(r.data).toMatch(/^HTTP\/1\.1 408/);
  });

  it('answers HEAD wherever GET works, and serves pages through the pages hook', async () => {
    for (const path of ['/healthz', '/api/v1/reports/x', '/dashboard/']) {
      const head = await fetch(`${receiver.url}${path}`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe('');
    }
    const page = await fetch(`${receiver.url}/dashboard/`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toBe('<h1>hm</h1>');
    expect((await fetch(`${receiver.url}/nothing-here`)).status).toBe(404);
    expect((await fetch(`${receiver.url}/api/v1/constructor`)).status).toBe(404);
    expect((await fetch(`${receiver.url}/v1/traces`)).status).toBe(405);
  });

  it('answers malformed URLs and media types with 400/415 and a JSON reason, never 500', async () => {
    const badUrl = await fetch(`${receiver.url}/api/v1/%`);
    expect(badUrl.status).toBe(400);
    expect(((await badUrl.json()) as { error: string }).error).toMatch(/not a valid url/);
    const badType = await fetch(`${receiver.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': ';;;' },
      body: '{}',
    });
    expect(badType.status).toBe(415);
    expect(((await badType.json()) as { message: string }).message).toMatch(
      /is not a valid media type/,
    );
    expect((await fetch(`${receiver.url}/healthz`)).status).toBe(200);
  });
});
