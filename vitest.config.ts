import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources, not the build output.
    alias: [
      {
        find: /^@harness-meter\/instrumentation\/semconv$/,
        replacement: src('./instrumentation/src/semconv.ts'),
      },
      {
        find: /^@harness-meter\/instrumentation\/rules$/,
        replacement: src('./instrumentation/src/rules.ts'),
      },
      {
        find: /^@harness-meter\/instrumentation\/redact$/,
        replacement: src('./instrumentation/src/redact.ts'),
      },
      {
        find: /^@harness-meter\/instrumentation$/,
        replacement: src('./instrumentation/src/index.ts'),
      },
      {
        find: /^@harness-meter\/queries\/pure$/,
        replacement: src('./queries/src/pure.ts'),
      },
      { find: /^@harness-meter\/queries$/, replacement: src('./queries/src/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // A real Kafka broker for the suite (or the cluster HM_KAFKA_BROKERS names).
    // One temp folder for the run, removed at the end (listed first: torn down last).
    globalSetup: ['test/setup/temp.ts', 'test/setup/kafka.ts'],
    // libchdb binds one data folder per process: every test file gets its own process and folder.
    pool: 'forks',
    isolate: true,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
