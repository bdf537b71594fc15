/**
 * The shell-command model: each shell form agents use, classified; and the SDK's built-in lexer
 * against `shell-quote` (the pipeline's parser) on the same commands.
 */
import { describe, expect, it } from 'vitest';
import { analyzeShell, tokenizeShell } from '@harness-meter/instrumentation';
import { shellParse } from '../../pipeline/src/decode/agents.js';

const cwd = '/repo';
const effect = (c: string | string[]): string => analyzeShell(c, cwd).effect;

describe('shell forms', () => {
  it('reads: cat, head, tail, sed -n, nl | sed, cat | head, with files and ranges resolved', () => {
    expect(analyzeShell('cat src/a.ts', cwd).read).toEqual({ paths: ['/repo/src/a.ts'], start: 1 });
    expect(analyzeShell('head -n 30 a.py', cwd).read).toEqual({
      paths: ['/repo/a.py'],
      start: 1,
      end: 30,
    });
    expect(analyzeShell('head -20 a.py', cwd).read).toMatchObject({ start: 1, end: 20 });
    expect(analyzeShell('tail -n 5 log.txt', cwd).read).toMatchObject({ start: -1, end: -1 });
    expect(analyzeShell("sed -n '10,40p' a.go", cwd).read).toEqual({
      paths: ['/repo/a.go'],
      start: 10,
      end: 40,
    });
    expect(analyzeShell("nl -ba a.py | sed -n '20,60p'", cwd).read).toMatchObject({
      start: 20,
      end: 60,
    });
    expect(analyzeShell('cat a.rs | head -80', cwd).read).toMatchObject({
      paths: ['/repo/a.rs'],
      start: 1,
      end: 80,
    });
    expect(analyzeShell('cat a.ts b.ts', cwd).read?.paths).toEqual(['/repo/a.ts', '/repo/b.ts']);
    expect(effect('cat a.ts | grep foo')).toBe('search');
  });

  it('searches, listings and queries change nothing', () => {
    expect(effect('rg -n "foo" src')).toBe('search');
    expect(effect('grep -rn foo lib')).toBe('search');
    expect(effect("find . -name '*_test.go'")).toBe('search');
    expect(effect('git grep -n foo')).toBe('search');
    expect(effect('ls -la src')).toBe('list');
    for (const q of [
      'git log --oneline -5',
      'git --no-pager log -3',
      'git status --short',
      'git diff --stat',
      'git blame -L 1,40 a.ts',
      'git show HEAD',
      'pwd',
      'which node',
      'env',
      'wc -l a.py',
    ])
      expect(effect(q), q).toBe('query');
  });

  it('tests, builds and linters run without changing sources', () => {
    for (const r of [
      'npm test',
      'npm run lint',
      'npx tsc --noEmit',
      'python -m pytest tests -q',
      'pytest -x',
      'go test ./...',
      'go build ./cmd/x',
      'cargo test -p core',
      'cargo check',
      'mvn -q test',
      'make test',
      'ruff check src',
      'black --check .',
      'CI=1 npm test',
      'npm test 2>&1 | tail -30',
      'timeout 60 npm test',
    ])
      expect(effect(r), r).toBe('run');
  });

  it('mutations: redirections, in-place edits, formatters, package managers, git, unknown commands', () => {
    expect(analyzeShell('node report.js > out/r.txt', cwd)).toMatchObject({
      effect: 'mutate',
      touches: ['/repo/out/r.txt'],
    });
    expect(analyzeShell('echo x >> notes.txt', cwd).touches).toEqual(['/repo/notes.txt']);
    expect(analyzeShell("sed -i 's/a/b/g' src/f.ts", cwd).touches).toEqual(['/repo/src/f.ts']);
    expect(analyzeShell('npx prettier --write src/v.tsx', cwd).touches).toEqual([
      '/repo/src/v.tsx',
    ]);
    expect(analyzeShell('git checkout -- src/s.ts', cwd).touches).toEqual(['/repo/src/s.ts']);
    expect(analyzeShell('npm test > /dev/null 2>&1', cwd).effect).toBe('run');
    for (const m of [
      'npm install pg',
      'npm run dev',
      'npm run format',
      'go mod tidy',
      'cargo fmt',
      'git stash',
      'git reset --hard',
      'ruff check --fix .',
      'eslint --fix src',
      'find . -name "*.tmp" -delete',
      'rm -rf dist',
      './scripts/deploy.sh',
      'echo $(date) > x',
      'rg foo | tee out.txt',
    ])
      expect(effect(m), m).toBe('mutate');
    expect(analyzeShell('npm install pg', cwd).touches).toBeUndefined(); // unknowable: anything
  });

  it('mutations that name what they write, or change no file content', () => {
    expect(analyzeShell('cp a.ts b.ts', cwd).touches).toEqual(['/repo/b.ts']);
    expect(analyzeShell('mv a.ts b.ts', cwd).touches).toEqual(['/repo/a.ts', '/repo/b.ts']);
    expect(analyzeShell('mkdir -p src/new', cwd)).toMatchObject({ effect: 'mutate', touches: [] });
    expect(analyzeShell('git add -A && git commit -m "x"', cwd)).toMatchObject({
      effect: 'mutate',
      touches: [],
    });
    expect(analyzeShell('git pull', cwd).touches).toBeUndefined();
    expect(effect('node scripts/generate-types.js')).toBe('mutate');
    expect(effect('node scripts/agent.js')).toBe('run');
    expect(effect('python manage.py test')).toBe('run');
    expect(effect('uv run pytest -q')).toBe('run');
    expect(effect('bundle exec rspec spec/a_spec.rb')).toBe('run');
  });

  it('chains, cd prefixes, bash -lc wrappers and argv arrays', () => {
    expect(analyzeShell('cd cmd/tided && cat main.go', cwd).read?.paths).toEqual([
      '/repo/cmd/tided/main.go',
    ]);
    expect(analyzeShell(['bash', '-lc', "sed -n '1,20p' a.go"], cwd).read).toMatchObject({
      start: 1,
      end: 20,
    });
    expect(analyzeShell(['cat', 'a.go'], cwd).read?.paths).toEqual(['/repo/a.go']);
    expect(analyzeShell('bash -c "git status && git diff"', cwd).effect).toBe('query');
    expect(effect('git status; npm test')).toBe('run');
    expect(effect('npm test && npm run format')).toBe('mutate');
    // the same search as argv and as bash -lc has the same key
    expect(analyzeShell(['rg', '--line-number', 'x y', 'src'], cwd).key).toEqual(
      analyzeShell(['bash', '-lc', "rg --line-number 'x y' src"], cwd).key,
    );
  });

  it('reports where a cd leaves the shell (Claude Code and Cursor keep it between calls)', () => {
    expect(analyzeShell('cd pkg && npm test', cwd).cwd).toBe('/repo/pkg');
    expect(analyzeShell('npm test', cwd).cwd).toBe('/repo');
  });

  it('the command table is data: a custom command can be declared read-only', () => {
    expect(analyzeShell('mytool scan', cwd).effect).toBe('mutate');
    expect(
      analyzeShell('mytool scan', cwd, tokenizeShell, { mytool: { effect: 'query' } }).effect,
    ).toBe('query');
  });
});

describe('the SDK lexer and shell-quote agree', () => {
  const COMMANDS = [
    'cat src/a.ts',
    "sed -n '10,40p' a.go",
    'rg -n "foo bar" src',
    "nl -ba a.py | sed -n '20,60p'",
    'cd pkg && go test ./... 2>&1 | tail -30',
    'npm test > /dev/null 2>&1',
    "echo 'a b' >> notes.txt; git status --short",
    'FOO=1 npm run lint || true',
    "find . -name '*_test.go' -path './internal/*'",
    'git log --oneline -n 5 -- src/q.ts',
    'grep -rn "a\\"b" lib',
    'ls -la src/*.ts',
  ];
  it.each(COMMANDS)('%s', (c) => {
    expect(tokenizeShell(c)).toEqual(shellParse(c));
  });
});
