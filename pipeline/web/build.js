// Builds the dashboard (src/main.tsx) into static files under pipeline/dist/web/: index.html and
// content-hashed assets the server caches for a year. Run by `npm run build`; no network at run time.
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'dist', 'web');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });

const result = await build({
  entryPoints: [join(here, 'src', 'main.tsx')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: join(out, 'assets'),
  entryNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});
const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((f) => f.endsWith('.js'));
const css = outputs.find((f) => f.endsWith('.css'));
if (!js || !css)
  throw new Error(`dashboard build: expected a .js and a .css output, got ${outputs.join(', ')}`);

writeFileSync(
  join(out, 'index.html'),
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>harness-meter</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/${css}">
<script type="module" src="/assets/${js}"></script>
</head>
<body>
<div id="app"><p class="loading" role="status">Loading harness-meter…</p></div>
<noscript>The harness-meter dashboard needs JavaScript. The same figures: <code>npx harness-meter report cost-per-pr</code>.</noscript>
</body>
</html>
`,
);
const sizes = Object.entries(result.metafile.outputs)
  .map(([p, o]) => `${basename(p)} ${(o.bytes / 1024).toFixed(1)} KiB`)
  .join(', ');
process.stdout.write(`dashboard: ${sizes} -> ${out}\n`);
