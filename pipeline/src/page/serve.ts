import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** A static answer of the dashboard page, independent of the HTTP framework that sends it. */
export interface PageResponse {
  status: number;
  contentType: string;
  body: Uint8Array;
  headers: Record<string, string>;
}

/** Answers GET <path> for the dashboard, or undefined when the path is not the page's. */
export type PageHandler = (path: string, acceptEncoding?: string) => PageResponse | undefined;

/** Where `npm run build` writes the page (pipeline/web/build.mjs). */
export const PAGE_DIR = fileURLToPath(new URL('../../dist/web/', import.meta.url));

/**
 * The page reads only its own origin: scripts and styles from files (none inline), the API by fetch.
 * style-src allows no inline <style> or style="" markup; the page sets styles through the CSSOM only.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

const SECURITY_HEADERS = {
  'Content-Security-Policy': PAGE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

interface Asset {
  type: string;
  raw: Uint8Array;
  gzip: Uint8Array;
  cache: string;
}

function asset(file: string, cache: string): Asset {
  const raw = readFileSync(file);
  return {
    type: TYPES[extname(file)] ?? 'application/octet-stream',
    raw,
    gzip: gzipSync(raw, { level: 9 }),
    cache,
  };
}

/**
 * Serves the built page: `/` (and any path of the page's own, e.g. `/index.html`) answers index.html,
 * revalidated on every load; `/assets/<name>-<hash>.<ext>` are immutable for a year. Files are read and
 * gzipped once, at creation. Without a build, `/` answers 503 saying how to build it.
 */
export function createPageHandler(dir: string = PAGE_DIR): PageHandler {
  const files = new Map<string, Asset>();
  const index = join(dir, 'index.html');
  if (existsSync(index)) {
    files.set('/', asset(index, 'no-cache'));
    const assets = join(dir, 'assets');
    if (existsSync(assets))
      for (const name of readdirSync(assets))
        files.set(
          `/assets/${name}`,
          asset(join(assets, name), 'public, max-age=31536000, immutable'),
        );
  }
  return (path, acceptEncoding = '') => {
    const key = path === '/index.html' ? '/' : path;
    const a = files.get(key);
    if (!a) {
      if (key !== '/') return undefined;
      return {
        status: 503,
        contentType: 'text/plain; charset=utf-8',
        body: new TextEncoder().encode(
          `The dashboard is not built: run \`npm run build\` (it writes ${dir}).\n`,
        ),
        headers: { 'Cache-Control': 'no-store', ...SECURITY_HEADERS },
      };
    }
    const gzip = /\bgzip\b/.test(acceptEncoding) && a.gzip.length < a.raw.length;
    return {
      status: 200,
      contentType: a.type,
      body: gzip ? a.gzip : a.raw,
      headers: {
        'Cache-Control': a.cache,
        Vary: 'Accept-Encoding',
        ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
        ...SECURITY_HEADERS,
      },
    };
  };
}
