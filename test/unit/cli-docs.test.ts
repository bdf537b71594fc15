import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cliReference, withReference } from '../../pipeline/src/cli/docs.js';

describe("the README's command reference", () => {
  it('is what the CLI prints (run npm run gen:cli-docs after changing a command)', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const reference = cliReference();
    expect(withReference(readme, reference)).toBe(readme);
    // Every command is in it, with its flags.
    for (const c of [
      'harness-meter start',
      'harness-meter report cost-per-pr',
      'harness-meter demo',
    ])
      expect(reference).toContain(`\`${c} --help\``);
    expect(reference).toContain('--tolerance <pct>');
  });
});
