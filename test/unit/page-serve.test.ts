import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createPageHandler, PAGE_CSP } from '../../pipeline/src/page/serve.js';

function builtPage(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hm-page-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>x</title>');
  writeFileSync(join(dir, 'assets', 'main-ABC123.js'), 'console.log(1);'.repeat(200));
  return dir;
}

describe('dashboard page handler', () => {
  it('answers / and /index.html with revalidation and the CSP, hashed assets as immutable', () => {
    const page = createPageHandler(builtPage());
    for (const path of ['/', '/index.html']) {
      const r = page(path);
      expect(r?.status).toBe(200);
      expect(r?.contentType).toBe('text/html; charset=utf-8');
      expect(r?.headers['Cache-Control']).toBe('no-cache');
      expect(r?.headers['Content-Security-Policy']).toBe(PAGE_CSP);
    }
    const js = page('/assets/main-ABC123.js');
    expect(js?.contentType).toBe('text/javascript; charset=utf-8');
    expect(js?.headers['Cache-Control']).toBe('public, max-age=31536000, immutable');
    expect(js?.headers['Content-Encoding']).toBeUndefined();
  });

  it('gzips when the client accepts it, and the bytes are the same file', () => {
    const page = createPageHandler(builtPage());
    const plain = page('/assets/main-ABC123.js')!;
    const gz = page('/assets/main-ABC123.js', 'br, gzip;q=0.8')!;
    expect(gz.headers['Content-Encoding']).toBe('gzip');
    expect(gz.body.length).toBeLessThan(plain.body.length);
    expect(Buffer.from(gunzipSync(gz.body)).equals(Buffer.from(plain.body))).toBe(true);
  });

  it('leaves other paths to the server, and says how to build when the page is missing', () => {
    const page = createPageHandler(builtPage());
    expect(page('/assets/other.js')).toBeUndefined();
    expect(page('/v1/nothing')).toBeUndefined();
    expect(page('/assets/../index.html')).toBeUndefined();
    const missing = createPageHandler(join(tmpdir(), 'hm-no-such-page'))('/');
    expect(missing?.status).toBe(503);
    expect(new TextDecoder().decode(missing?.body)).toContain('npm run build');
  });

  it('forbids inline scripts and styles and any other origin', () => {
    expect(PAGE_CSP).toContain("default-src 'none'");
    expect(PAGE_CSP).toContain("script-src 'self'");
    expect(PAGE_CSP).not.toContain('unsafe-inline');
    expect(PAGE_CSP).toContain("frame-ancestors 'none'");
  });
});
