#!/usr/bin/env node
// The CLI entry: a committed shim, so npm can link the command at install time, before the
// TypeScript build (`prepare`) has produced dist/.
import('../dist/cli.js').catch((err) => {
  process.stderr.write(
    `harness-meter is not built yet (${err instanceof Error ? err.message : String(err)}). Run npm install (or npm run build) in the repository first.\n`,
  );
  process.exitCode = 1;
});
