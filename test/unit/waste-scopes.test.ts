/**
 * Search scopes: a write makes stale only the searches, listings and queries whose result it can
 * change (contents under a directory, names there, the git history), and the tool shapes added
 * after the second held-out set (Anthropic's text editor tool, Codex's `shell_command`, harness
 * names, kebab-case MCP lookups).
 */
import { describe, expect, it } from 'vitest';
import {
  analyzeShell,
  canonicalJson,
  describeToolCall,
  sha256Hex,
} from '@harness-meter/instrumentation';
import { findRedundancy, type SessionCall } from '../../pipeline/src/detect/index.js';
import { SCOPED_TOUCH } from '../../instrumentation/src/rules.js';
import { ANY_CONTENT } from '../../instrumentation/src/scopes.js';

const cwd = '/w/app';
const scope = (c: string | string[]): string | undefined => analyzeShell(c, cwd).scope;
const d = (name: string, args: unknown) => describeToolCall(name, args, { cwd });
const key = (name: string, args: unknown): string => canonicalJson(d(name, args)?.key);

let n = 0;
/** A tool call as the rules see it, from the schema's shape (hashed as the SDK does). */
function call(name: string, args: unknown): SessionCall {
  const s = d(name, args);
  if (!s) throw new Error(`no schema for ${name}`);
  n++;
  const c: SessionCall = {
    spanId: `c${String(n).padStart(3, '0')}`,
    at: BigInt(n) * 1_000_000n,
    type: 'tool',
    toolName: name,
    toolClass: s.cls,
    argsHash: sha256Hex(canonicalJson(s.key)),
    resultTokens: 100,
  };
  if (s.target !== undefined) c.targetHash = sha256Hex(s.target);
  if (s.range) {
    c.rangeStart = s.range.start;
    if (s.range.end !== undefined) c.rangeEnd = s.range.end;
  }
  if (s.mutates) c.mutates = s.mutates;
  if (s.touches) c.touches = s.touches.map(sha256Hex);
  if (s.edit?.before) c.beforeHash = s.edit.before;
  if (s.edit?.after) c.afterHash = s.edit.after;
  return c;
}
/** The kinds found, by position in the sequence ('' = not wasted). */
const kinds = (calls: SessionCall[]): string[] => {
  const found = new Map(findRedundancy(calls).map((f) => [f.spanId, f.kind]));
  return calls.map((c) => found.get(c.spanId) ?? '');
};
const sh = (command: string) => call('Bash', { command });

describe('shell scopes', () => {
  it('content, names, history and installed-tool scopes', () => {
    expect(scope('rg -n foo src')).toBe('content:/w/app/src');
    expect(scope('grep -rn -e foo lib')).toBe('content:/w/app/lib');
    expect(scope('ls lib')).toBe('names:/w/app/lib');
    expect(scope('ls -la lib')).toBe('content:/w/app/lib');
    expect(scope('find . -name "*.ts" -not -path "./dist/*"')).toBe('names:/w/app');
    expect(scope('find src -newer package.json')).toBe('content:/w/app/src');
    expect(scope(['bash', '-lc', 'cd pkg && git log --oneline -5'])).toBe('history:/w/app/pkg');
    expect(scope('git status --short')).toBeUndefined(); // the whole repository: any write
    expect(scope('git grep -n foo')).toBe('content:/w/app');
    expect(scope('git blame -L 1,20 src/a.ts')).toBe('content:/w/app/src/a.ts');
    expect(scope('rustc --version')).toBe('env:');
    expect(scope('rg foo src lib')).toBeUndefined(); // several roots: not knowable
  });

  it('appends and in-place rewrites change content only; > f, touch, rm, cp may create or delete', () => {
    expect(analyzeShell('echo x >> notes.md', cwd).creates).toBeUndefined();
    expect(analyzeShell("sed -i 's/a/b/' src/a.ts", cwd).creates).toBeUndefined();
    expect(analyzeShell('npx prettier --write src/a.ts', cwd).creates).toBeUndefined();
    expect(analyzeShell('echo x > out.txt', cwd).creates).toEqual(['/w/app/out.txt']);
    expect(analyzeShell('touch src/b.ts', cwd).creates).toEqual(['/w/app/src/b.ts']);
    expect(analyzeShell('cp a.ts src/c.ts', cwd).creates).toEqual(['/w/app/src/c.ts']);
    expect(analyzeShell('ls | tee -a log.txt', cwd).creates).toBeUndefined();
    expect(analyzeShell("sed -i.bak 's/a/b/' a.ts", cwd).creates).toEqual(['/w/app/a.ts']);
    expect(
      d('apply_patch', {
        input: '*** Begin Patch\n*** Update File: a.ts\n*** Move to: b/c.ts\n*** End Patch',
      })?.touches,
    ).toEqual([]);
  });

  it('a shell search keeps its pipeline filters in its key', () => {
    expect(key('Bash', { command: 'rg foo src | head -40' })).not.toBe(
      key('Bash', { command: 'rg foo src | wc -l' }),
    );
    expect(key('Bash', { command: 'cat a.txt | grep x' })).not.toBe(
      key('Bash', { command: 'cat a.txt | grep y' }),
    );
    // a filtered rg is not Grep's search
    expect(key('Bash', { command: 'rg foo src | head -40' })).not.toBe(
      key('Grep', { pattern: 'foo', path: 'src', output_mode: 'content' }),
    );
  });

  it('bare package-script checks run; --version is a query', () => {
    expect(analyzeShell('pnpm lint', cwd).effect).toBe('run');
    expect(analyzeShell('bun typecheck', cwd).effect).toBe('run');
    expect(analyzeShell('pnpm add zod', cwd).effect).toBe('mutate');
    expect(analyzeShell('go version', cwd).effect).toBe('query');
    expect(analyzeShell('node --version', cwd).effect).toBe('query');
  });
});

describe('a write makes stale only the searches it can change', () => {
  it("the rules' marker is the hash of content:* (rules.ts hashes nothing itself)", () => {
    expect(SCOPED_TOUCH).toBe(sha256Hex(ANY_CONTENT));
  });

  it('an edit elsewhere keeps a search; an edit inside its scope does not', () => {
    const grep = { pattern: 'TODO', path: 'docs', output_mode: 'content' };
    expect(
      kinds([
        call('Grep', grep),
        call('Edit', { file_path: 'src/a.ts', old_string: 'a', new_string: 'b' }),
        call('Grep', grep),
        call('Edit', { file_path: 'docs/x.md', old_string: 'a', new_string: 'b' }),
        call('Grep', grep),
      ]),
    ).toEqual(['', '', 'repeated_search', '', '']);
  });

  it('listings survive content-only writes, not creations', () => {
    expect(
      kinds([
        sh('ls src'),
        call('Edit', { file_path: 'src/a.ts', old_string: 'a', new_string: 'b' }),
        sh('ls src'),
        sh('echo x >> src/a.ts'),
        sh('ls src'),
        call('Write', { file_path: 'src/new.ts', content: 'x' }),
        sh('ls src'),
      ]),
    ).toEqual(['', '', 'repeated_search', '', 'repeated_search', '', '']);
    expect(kinds([sh('ls -l src'), sh('sed -i s/a/b/ src/a.ts'), sh('ls -l src')])).toEqual([
      '',
      '',
      '',
    ]);
  });

  it('git history survives working-tree writes, not commits or unknown commands', () => {
    const log = 'git log --oneline -5';
    expect(
      kinds([
        sh(log),
        call('Edit', { file_path: 'src/a.ts', old_string: 'a', new_string: 'b' }),
        sh(log),
        sh('git commit -am x'),
        sh(log),
        sh('./scripts/release'),
        sh(log),
      ]),
    ).toEqual(['', '', 'repeated_search', '', '', '', '']);
  });

  it('a write with no known files, or stored before scopes (no content:* marker), makes every search stale', () => {
    const grep = sh('rg -n foo docs');
    const old = call('Edit', { file_path: 'src/a.ts', old_string: 'a', new_string: 'b' });
    old.touches = [sha256Hex('/w/app/src/a.ts')];
    expect(kinds([grep, old, sh('rg -n foo docs')])).toEqual(['', '', '']);
    expect(kinds([sh('rg -n foo docs'), sh('./scripts/codegen.sh'), sh('rg -n foo docs')])).toEqual(
      ['', '', ''],
    );
  });
});

describe('without a working directory (the decode stage)', () => {
  /** As `call`, with no cwd: relative paths stay relative. */
  const bare = (name: string, args: unknown): SessionCall => {
    const s = describeToolCall(name, args);
    const c = call('LS', { path: '/unused' });
    if (!s) throw new Error(name);
    c.toolName = name;
    c.toolClass = s.cls;
    c.argsHash = sha256Hex(canonicalJson(s.key));
    c.targetHash = s.target === undefined ? '' : sha256Hex(s.target);
    delete c.touches;
    if (s.touches) c.touches = s.touches.map(sha256Hex);
    return c;
  };
  it('a relative search scope goes stale on any write of an absolute path', () => {
    expect(
      kinds([
        bare('Bash', { command: 'ls src' }),
        bare('Write', { file_path: '/p/r/src/new.ts', content: 'x' }),
        bare('Bash', { command: 'ls src' }),
        bare('Bash', { command: 'rg -n foo src' }),
        bare('Edit', { file_path: '/p/r/src/a.ts', old_string: 'a', new_string: 'b' }),
        bare('Bash', { command: 'rg -n foo src' }),
        bare('Bash', { command: 'git log -3' }),
        bare('Edit', { file_path: '/p/r/src/a.ts', old_string: 'b', new_string: 'c' }),
        bare('Bash', { command: 'git log -3' }),
      ]),
    ).toEqual(['', '', '', '', '', '', '', '', 'repeated_search']);
  });
});

describe('tool shapes added after the second held-out set', () => {
  it("Anthropic's text editor tool: view ranges, str_replace churn, create", () => {
    const v = (range?: number[]) =>
      call(
        'str_replace_based_edit_tool',
        range
          ? { command: 'view', path: '/w/app/a.py', view_range: range }
          : { command: 'view', path: '/w/app/a.py' },
      );
    const rep = (a: string, b: string) =>
      call('str_replace_based_edit_tool', {
        command: 'str_replace',
        path: 'a.py',
        old_str: a,
        new_str: b,
      });
    expect(
      d('str_replace_based_edit_tool', { command: 'view', path: 'a.py', view_range: [5, -1] }),
    ).toMatchObject({
      cls: 'read',
      range: { start: 5 },
    });
    expect(
      kinds([v([1, 50]), v([10, 20]), v([40, 90]), rep('x', 'y'), rep('y', 'x'), v([10, 20])]),
    ).toEqual(['', 're_read', '', '', 'edit_churn', '']);
    expect(
      d('str_replace_editor', { command: 'create', path: 'b.py', file_text: 'x' }),
    ).toMatchObject({
      cls: 'write',
      fullWrite: true,
    });
  });

  it("Codex's shell_command, harness names, kebab-case MCP lookups, list_directory's empty ignore", () => {
    expect(key('shell_command', { command: 'rg -n foo src', workdir: '/w/app' })).toBe(
      key('shell', { command: ['rg', '-n', 'foo', 'src'], workdir: '/w/app' }),
    );
    expect(d('fetch_url', { url: 'https://x.dev/a' })?.cls).toBe('fetch');
    expect(key('list_files', { path: 'src' })).toBe(key('LS', { path: '/w/app/src' }));
    expect(d('mcp__context7__get-library-docs', { context7CompatibleLibraryID: '/a/b' })?.cls).toBe(
      'fetch',
    );
    expect(d('mcp__context7__resolve-library-id', { libraryName: 'b' })?.cls).toBe('fetch');
    expect(d('mcp__jira__create-issue', { summary: 'x' })).toBeUndefined();
    expect(key('list_directory', { path: '/w/app/lib', ignore: [] })).toBe(
      key('list_directory', { path: '/w/app/lib' }),
    );
  });
});
