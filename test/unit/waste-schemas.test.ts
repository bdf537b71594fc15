/**
 * Per-tool argument schemas: for each agent's tools, which calls are "the same" (free text dropped,
 * defaults filled, paths resolved against the session's cwd, ranges as lines) and which are not.
 */
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  describeToolCall,
  parsePatch,
  sha256Hex,
  type CallShape,
} from '@harness-meter/instrumentation';
import { findRedundancy, type SessionCall } from '../../pipeline/src/detect/index.js';

const cwd = '/home/ana/api';
const d = (name: string, args: unknown): CallShape | undefined =>
  describeToolCall(name, args, { cwd });
const key = (name: string, args: unknown): string => canonicalJson(d(name, args)?.key);
const same = (a: [string, unknown], b: [string, unknown]): boolean => key(...a) === key(...b);

describe('Claude Code', () => {
  it('Read: 2,000-line default, 1-based offset, absolute and relative paths are one file', () => {
    expect(d('Read', { file_path: '/home/ana/api/src/a.ts' })).toMatchObject({
      cls: 'read',
      target: '/home/ana/api/src/a.ts',
      range: { start: 1, end: 2000 },
      defaultLimit: true,
    });
    expect(d('Read', { file_path: 'src/a.ts', offset: 2001 })?.range).toEqual({
      start: 2001,
      end: 4000,
    });
    expect(d('Read', { file_path: 'src/a.ts', offset: 10, limit: 5 })).toMatchObject({
      range: { start: 10, end: 14 },
    });
    expect(
      d('Read', { file_path: 'src/a.ts', offset: 10, limit: 5 })?.defaultLimit,
    ).toBeUndefined();
    expect(
      same(
        ['Read', { file_path: 'src/a.ts' }],
        ['Read', { file_path: '/home/ana/api/src/a.ts', offset: 1, limit: 2000 }],
      ),
    ).toBe(true);
  });
  it('Grep: output_mode defaults to files_with_matches; -n is cosmetic for the key only when equal', () => {
    expect(
      same(
        ['Grep', { pattern: 'x', path: 'src' }],
        ['Grep', { pattern: 'x', path: '/home/ana/api/src/', output_mode: 'files_with_matches' }],
      ),
    ).toBe(true);
    expect(
      same(['Grep', { pattern: 'x' }], ['Grep', { pattern: 'x', output_mode: 'content' }]),
    ).toBe(false);
    expect(same(['Grep', { pattern: 'x', glob: '*.ts' }], ['Grep', { pattern: 'x' }])).toBe(false);
  });
  it('a simple rg / grep -r / ls through Bash is the same search or listing as Grep / LS', () => {
    expect(
      same(
        ['Grep', { pattern: 'foo', path: 'src', output_mode: 'content' }],
        ['Bash', { command: 'rg -n foo src' }],
      ),
    ).toBe(true);
    expect(
      same(['Grep', { pattern: 'foo', path: 'src' }], ['Bash', { command: 'grep -rl foo src' }]),
    ).toBe(true);
    expect(
      same(
        ['Grep', { pattern: 'foo', '-i': true, output_mode: 'content' }],
        ['Bash', { command: 'rg -i foo' }],
      ),
    ).toBe(true);
    expect(
      same(['Grep', { pattern: 'foo', path: 'src' }], ['Bash', { command: 'rg -n foo src' }]),
    ).toBe(false);
    expect(
      same(
        ['Grep', { pattern: 'foo', output_mode: 'content' }],
        ['Bash', { command: 'rg -w foo' }],
      ),
    ).toBe(false);
    expect(same(['LS', { path: 'src' }], ['Bash', { command: 'ls -a src' }])).toBe(true);
    // a long listing also shows sizes and times: another result than LS's names
    expect(same(['LS', { path: 'src' }], ['Bash', { command: 'ls -la src' }])).toBe(false);
    expect(same(['LS', { path: 'src' }], ['Bash', { command: 'ls -R src' }])).toBe(false);
  });

  it('Bash: description and timeout are free text; Glob, LS; WebFetch keyed by URL and prompt; WebSearch', () => {
    expect(
      same(
        ['Bash', { command: 'npm test', description: 'a', timeout: 1 }],
        ['Bash', { command: 'npm  test' }],
      ),
    ).toBe(true);
    expect(d('Bash', { command: 'cat src/a.ts' })).toMatchObject({
      cls: 'read',
      target: '/home/ana/api/src/a.ts',
    });
    expect(d('Glob', { pattern: '**/*.py' })?.cls).toBe('search');
    expect(same(['LS', { path: '/home/ana/api/src' }], ['LS', { path: 'src/' }])).toBe(true);
    expect(
      same(
        ['WebFetch', { url: 'https://a.dev', prompt: 'x' }],
        ['WebFetch', { url: 'https://a.dev', prompt: 'y' }],
      ),
    ).toBe(false);
    expect(d('WebSearch', { query: 'a  b' })?.target).toBe(
      d('WebSearch', { query: 'a b' })?.target,
    );
  });
  it('Edit, MultiEdit, Write, NotebookEdit: content hashes; TodoWrite and Task are bookkeeping', () => {
    expect(d('Edit', { file_path: 'a.ts', old_string: 'x', new_string: 'y' })?.edit).toEqual({
      before: sha256Hex('x'),
      after: sha256Hex('y'),
    });
    expect(
      d('MultiEdit', { file_path: 'a.ts', edits: [{ old_string: 'x', new_string: 'y' }] })?.cls,
    ).toBe('write');
    expect(d('Write', { file_path: 'a.ts', content: 'v1' })).toMatchObject({
      cls: 'write',
      fullWrite: true,
      edit: { after: sha256Hex('v1') },
    });
    expect(
      d('NotebookEdit', { notebook_path: 'n.ipynb', new_source: 's', cell_id: 'c1' })?.cls,
    ).toBe('write');
    expect(d('TodoWrite', { todos: [] })?.cls).toBe('other');
    expect(d('Task', { description: 'x', prompt: 'y', subagent_type: 'general' })?.cls).toBe(
      'other',
    );
  });
});

describe('Codex', () => {
  it('shell: argv arrays and bash -lc, workdir resolves paths; timeout_ms dropped', () => {
    const a = d('shell', { command: ['cat', 'a.go'], workdir: '/w', timeout_ms: 1000 });
    expect(a).toMatchObject({ cls: 'read', target: '/w/a.go' });
    expect(d('shell', { command: ['bash', '-lc', 'cat a.go'], workdir: '/w' })?.target).toBe(
      '/w/a.go',
    );
    expect(d('shell', { command: ['bash', '-lc', 'go test ./...'], workdir: '/w' })).toMatchObject({
      cls: 'exec',
      mutates: 'none',
    });
    expect(d('shell', { command: ['bash', '-lc', 'gofmt -w cmd'], workdir: '/w' })).toMatchObject({
      mutates: 'all',
    });
    expect(
      d('shell', {
        command: ['apply_patch', '*** Begin Patch\n*** Add File: n.txt\n+hi\n*** End Patch'],
      })?.cls,
    ).toBe('write');
  });
  it('apply_patch: hunks give before/after hashes; adding then removing a line is churn', () => {
    expect(
      parsePatch('*** Begin Patch\n*** Update File: a.go\n@@\n ctx\n-old\n+new\n*** End Patch'),
    ).toEqual([{ path: 'a.go', op: 'update', removed: ['old'], added: ['new'] }]);
    const add = d('apply_patch', {
      input: '*** Begin Patch\n*** Update File: a.go\n@@\n+var v = 1\n*** End Patch',
    });
    const del = d('apply_patch', {
      input: '*** Begin Patch\n*** Update File: a.go\n@@\n-var v = 1\n*** End Patch',
    });
    expect(add?.edit?.after).toBe(del?.edit?.before);
    expect(add?.edit?.before).toBe(del?.edit?.after);
    expect(d('update_plan', { plan: [] })?.cls).toBe('other');
  });
});

describe('Cursor', () => {
  it('read_file ranges and whole files; explanation dropped; grep_search, list_dir, file_search, codebase_search', () => {
    expect(
      d('read_file', {
        target_file: 'a.rs',
        start_line_one_indexed: 5,
        end_line_one_indexed_inclusive: 9,
        should_read_entire_file: false,
        explanation: 'x',
      }),
    ).toMatchObject({ target: '/home/ana/api/a.rs', range: { start: 5, end: 9 } });
    expect(d('read_file', { target_file: 'a.rs', should_read_entire_file: true })?.range).toEqual({
      start: 1,
    });
    expect(
      same(
        ['grep_search', { query: 'fn x', explanation: 'a' }],
        ['grep_search', { query: 'fn x', explanation: 'b' }],
      ),
    ).toBe(true);
    expect(
      same(
        ['list_dir', { relative_workspace_path: 'src', explanation: 'a' }],
        ['LS', { path: '/home/ana/api/src' }],
      ),
    ).toBe(true);
    expect(d('file_search', { query: 'kepler' })?.cls).toBe('search');
    expect(d('codebase_search', { query: 'q', target_directories: [] })?.cls).toBe('search');
  });
  it('search_replace, edit_file, run_terminal_cmd', () => {
    expect(
      d('search_replace', { file_path: 'a.rs', old_string: 'x', new_string: 'y' })?.edit,
    ).toEqual({ before: sha256Hex('x'), after: sha256Hex('y') });
    expect(
      d('edit_file', { target_file: 'a.rs', instructions: 'i', code_edit: 'c' })?.edit,
    ).toEqual({ after: sha256Hex('c') });
    expect(
      same(
        ['run_terminal_cmd', { command: 'cargo test', is_background: false, explanation: 'a' }],
        ['run_terminal_cmd', { command: 'cargo test', explanation: 'b' }],
      ),
    ).toBe(true);
  });
});

describe('Gemini CLI', () => {
  it('read_file: 0-based offset, 2,000 lines by default; read_many_files reads several files whole', () => {
    expect(d('read_file', { absolute_path: '/r/a.java', offset: 30, limit: 40 })?.range).toEqual({
      start: 31,
      end: 70,
    });
    expect(d('read_file', { absolute_path: '/r/a.java' })).toMatchObject({
      range: { start: 1, end: 2000 },
      defaultLimit: true,
    });
    expect(d('read_many_files', { paths: ['docs/a.md', 'docs/b.md'] })).toMatchObject({
      cls: 'read',
      target: '/home/ana/api/docs/a.md',
      targets: ['/home/ana/api/docs/b.md'],
    });
  });
  it('search_file_content, glob defaults, list_directory, replace, write_file, run_shell_command, web tools', () => {
    expect(d('search_file_content', { pattern: 'x' })?.cls).toBe('search');
    expect(
      same(
        ['glob', { pattern: '*.java' }],
        ['glob', { pattern: '*.java', case_sensitive: false, respect_git_ignore: true }],
      ),
    ).toBe(true);
    expect(
      same(
        ['list_directory', { path: '/home/ana/api/src/' }],
        ['list_directory', { path: '/home/ana/api/src' }],
      ),
    ).toBe(true);
    expect(d('replace', { file_path: 'a', old_string: 'x', new_string: 'y' })?.cls).toBe('write');
    expect(d('write_file', { file_path: 'a', content: 'x' })?.fullWrite).toBe(true);
    expect(
      d('run_shell_command', { command: 'ls', directory: 'sub', description: 'x' })?.key,
    ).toEqual(d('run_shell_command', { command: 'ls', directory: 'sub' })?.key);
    expect(d('web_fetch', { prompt: 'Summarize https://a.dev' })?.cls).toBe('fetch');
    expect(d('google_web_search', { query: 'q' })?.cls).toBe('fetch');
  });
});

describe('MCP and unknown tools', () => {
  it('lookups are keyed by their arguments; other MCP tools and unknown tools keep the generic path', () => {
    expect(d('mcp__github__get_pull_request', { owner: 'a', repo: 'b', pull_number: 1 })?.cls).toBe(
      'fetch',
    );
    expect(d('mcp__postgres__query', { sql: 'select 1' })?.cls).toBe('fetch');
    expect(d('mcp__filesystem__read_file', { path: '/home/ana/api/a.ts' })?.target).toBe(
      '/home/ana/api/a.ts',
    );
    expect(d('mcp__github__create_issue', { title: 't' })).toBeUndefined();
    expect(d('frobnicate', { x: 1 })).toBeUndefined();
  });
});

describe('rules with the new call facts', () => {
  let t = 0n;
  const tool = (c: Partial<SessionCall>): SessionCall => ({
    spanId: `s${(t += 1n)}`,
    at: t,
    type: 'tool',
    ...c,
  });
  const read = (target: string, extra: Partial<SessionCall> = {}): SessionCall =>
    tool({
      toolClass: 'read',
      argsHash: `r:${target}:${extra.rangeStart ?? ''}`,
      targetHash: target,
      ...extra,
    });
  const kinds = (calls: SessionCall[]): string[] =>
    findRedundancy(calls).map((f) => `${f.spanId}:${f.kind}`);

  it('a run that mutates only named files resets reads of those files only; a test run resets nothing', () => {
    const calls = [
      read('a'),
      read('b'),
      tool({ toolClass: 'exec', argsHash: 'sed', mutates: 'paths', touches: ['a'] }),
      read('a'),
      read('b'),
      tool({ toolClass: 'exec', argsHash: 't', mutates: 'none' }),
      read('b'),
    ];
    expect(kinds(calls)).toEqual([`${calls[4]!.spanId}:re_read`, `${calls[6]!.spanId}:re_read`]);
  });
  it('a tail is covered only by a whole read; a multi-file read covers each file read whole', () => {
    const tail = read('a', { rangeStart: -1, rangeEnd: -1 });
    expect(kinds([read('a', { rangeStart: 1, rangeEnd: 50 }), tail])).toEqual([]);
    const whole = read('a', { rangeStart: 1 });
    const tail2 = read('a', { rangeStart: -1, rangeEnd: -1 });
    expect(kinds([whole, tail2])).toEqual([`${tail2.spanId}:re_read`]);
    const both = read('a', { targetHashes: ['b'] });
    const one = read('b');
    expect(kinds([both, one])).toEqual([`${one.spanId}:re_read`]);
  });
  it('another command in between: a test rerun after a build is not a retry, but reads stay valid', () => {
    const test = (): SessionCall =>
      tool({ toolClass: 'exec', argsHash: 'test', mutates: 'none', isError: true });
    const build = (): SessionCall =>
      tool({ toolClass: 'exec', argsHash: 'build', mutates: 'none' });
    const calls = [read('a'), test(), build(), test(), read('a')];
    expect(kinds(calls)).toEqual([`${calls[4]!.spanId}:re_read`]);
  });

  it('one retry of a transient failure is not a loop; a second one is', () => {
    const run = (transient: boolean): SessionCall =>
      tool({ toolClass: 'exec', argsHash: 'npm ci', mutates: 'all', isError: true, transient });
    const first = run(true);
    const retry = run(true);
    const again = run(true);
    expect(kinds([first, retry, again])).toEqual([`${again.spanId}:retry_loop`]);
    const hard = run(false);
    const hardRetry = run(false);
    expect(kinds([hard, hardRetry])).toEqual([`${hardRetry.spanId}:retry_loop`]);
  });

  it('a mutating command that worked, run again, is not flagged; one that failed is a retry', () => {
    const m = (err: boolean): SessionCall =>
      tool({ toolClass: 'exec', argsHash: 'npm i', mutates: 'all', isError: err });
    expect(kinds([m(false), m(false)])).toEqual([]);
    const failed = m(true);
    const again = m(true);
    expect(kinds([failed, again])).toEqual([`${again.spanId}:retry_loop`]);
  });
});
