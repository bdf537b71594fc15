// Rewrites the README's command reference from the CLI's own help (pipeline/src/cli/docs.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { withReference } from '../pipeline/dist/cli/docs.js';

const readme = new URL('../README.md', import.meta.url);
writeFileSync(readme, withReference(readFileSync(readme, 'utf8')));
console.log('README.md: command reference updated');
