/**
 * The shell command table: how each command name behaves (read, search, list, query, run, mutate),
 * as data. Extend it with the SDK's `shellCommands` option; anything not here mutates.
 */
/** What a command does to the workspace, as the rules need it. */
export type ShellEffect =
  | 'read' // prints (part of) files
  | 'search' // searches file contents or names
  | 'list' // lists directories
  | 'query' // reads state without changing it (git log, pwd, env)
  | 'run' // tests, builds, linters: sources unchanged
  | 'mutate'; // anything that may write (or that we do not know)

/** How one command name behaves; subcommands and flags can override. */
export interface ShellRule {
  effect: ShellEffect;
  /** By first argument (`git log` → query). */
  sub?: Record<string, ShellEffect>;
  /** Any of these flags makes it mutate (`sed -i`, `prettier --write`, `eslint --fix`). */
  mutatingFlags?: readonly string[];
  /** Any of these flags makes it a read-only run (`black --check`). */
  checkFlags?: readonly string[];
  /** For mutations: the operands are the files it writes (`rm a b`, `sed -i … f`). */
  writesOperands?: boolean;
  /** For mutations: the operands are rewritten in place (`sed -i`, formatters), never created. */
  inPlace?: boolean;
  /** For mutations: only the last operand is written (`cp a b`). */
  writesLast?: boolean;
  /** For mutations: no existing file's content changes (`mkdir`, `git add`, `git commit`). */
  keepsContent?: boolean;
}

export const GIT_QUERIES = [
  'log',
  'status',
  'diff',
  'show',
  'blame',
  'rev-parse',
  'ls-files',
  'describe',
  'shortlog',
  'reflog',
  'remote',
  'branch',
  'tag',
  'config',
];
export const TEST_BUILD = [
  'test',
  'build',
  'lint',
  'typecheck',
  'check',
  'vet',
  'compile',
  'verify',
];

/**
 * The command table (data): extended or overridden with `HM_SHELL_COMMANDS` (a JSON object of the
 * same shape) in the pipeline, or `shellCommands` in the SDK's options. Anything not here mutates.
 */
export const SHELL_COMMANDS: Readonly<Record<string, ShellRule>> = {
  cat: { effect: 'read' },
  nl: { effect: 'read' },
  bat: { effect: 'read' },
  less: { effect: 'read' },
  more: { effect: 'read' },
  head: { effect: 'read' },
  tail: { effect: 'read' },
  sed: { effect: 'read', mutatingFlags: ['-i', '--in-place'], writesOperands: true, inPlace: true },
  grep: { effect: 'search' },
  egrep: { effect: 'search' },
  rg: { effect: 'search' },
  ag: { effect: 'search' },
  ack: { effect: 'search' },
  find: { effect: 'search', mutatingFlags: ['-delete', '-exec', '-execdir', '-ok', '-fprint'] },
  fd: { effect: 'search', mutatingFlags: ['-x', '--exec', '-X', '--exec-batch'] },
  ls: { effect: 'list' },
  tree: { effect: 'list' },
  pwd: { effect: 'query' },
  which: { effect: 'query' },
  type: { effect: 'query' },
  whoami: { effect: 'query' },
  env: { effect: 'query' },
  printenv: { effect: 'query' },
  echo: { effect: 'query' },
  printf: { effect: 'query' },
  date: { effect: 'query' },
  uname: { effect: 'query' },
  wc: { effect: 'query' },
  file: { effect: 'query' },
  stat: { effect: 'query' },
  du: { effect: 'query' },
  df: { effect: 'query' },
  true: { effect: 'query' },
  git: {
    effect: 'mutate',
    sub: { ...Object.fromEntries(GIT_QUERIES.map((s) => [s, 'query'])), grep: 'search' },
  },
  npm: {
    effect: 'mutate',
    sub: { test: 'run', t: 'run', run: 'run', ls: 'query', view: 'query', outdated: 'query' },
  },
  // pnpm and bun run a package script by its bare name (`pnpm lint`): the usual check names run.
  pnpm: { effect: 'mutate', sub: { ...testBuild(), test: 'run', run: 'run', ls: 'query' } },
  yarn: { effect: 'mutate', sub: { test: 'run', run: 'run', ...testBuild() } },
  npx: { effect: 'run' },
  node: { effect: 'run' },
  tsc: { effect: 'run' },
  jest: { effect: 'run' },
  vitest: { effect: 'run' },
  mocha: { effect: 'run' },
  pytest: { effect: 'run' },
  mypy: { effect: 'run' },
  tox: { effect: 'run' },
  python: { effect: 'run' },
  python3: { effect: 'run' },
  go: { effect: 'mutate', sub: { ...testBuild(), run: 'run', list: 'query', env: 'query' } },
  cargo: { effect: 'mutate', sub: { ...testBuild(), clippy: 'run', run: 'run', tree: 'query' } },
  mvn: { effect: 'run', sub: { install: 'mutate', deploy: 'mutate', clean: 'mutate' } },
  gradle: { effect: 'run', sub: { clean: 'mutate' } },
  './gradlew': { effect: 'run', sub: { clean: 'mutate' } },
  make: {
    effect: 'run',
    sub: { clean: 'mutate', install: 'mutate', fmt: 'mutate', format: 'mutate' },
  },
  dotnet: { effect: 'mutate', sub: testBuild() },
  ruff: { effect: 'run', sub: { format: 'mutate' }, mutatingFlags: ['--fix'] },
  eslint: { effect: 'run', mutatingFlags: ['--fix'] },
  prettier: {
    effect: 'run',
    mutatingFlags: ['--write', '-w'],
    writesOperands: true,
    inPlace: true,
  },
  gofmt: { effect: 'run', mutatingFlags: ['-w'], writesOperands: true, inPlace: true },
  black: {
    effect: 'mutate',
    checkFlags: ['--check', '--diff'],
    writesOperands: true,
    inPlace: true,
  },
  rm: { effect: 'mutate', writesOperands: true },
  mv: { effect: 'mutate', writesOperands: true },
  cp: { effect: 'mutate', writesLast: true },
  mkdir: { effect: 'mutate', keepsContent: true },
  rspec: { effect: 'run' },
  phpunit: { effect: 'run' },
  bun: { effect: 'mutate', sub: { ...testBuild(), test: 'run', run: 'run' } },
  deno: { effect: 'mutate', sub: { test: 'run', check: 'run', lint: 'run', run: 'run' } },
  './mvnw': { effect: 'run', sub: { install: 'mutate', deploy: 'mutate', clean: 'mutate' } },
  touch: { effect: 'mutate', writesOperands: true },
  tee: { effect: 'mutate', writesOperands: true },
  truncate: { effect: 'mutate', writesOperands: true, inPlace: true },
  chmod: { effect: 'mutate', writesOperands: true, inPlace: true },
};

function testBuild(): Record<string, ShellEffect> {
  return Object.fromEntries(TEST_BUILD.map((s) => [s, 'run' as const]));
}

/** Runners whose script name decides (`npm run lint` runs, `npm run format` mutates). */
export const SCRIPT_RUNNERS = new Set(['npm', 'pnpm', 'yarn']);
export const MUTATING_SCRIPTS =
  /^(format|fmt|fix|generate|gen|codegen|migrate|install|clean|release|deploy|dev|start|serve|watch|preview)/;
/** `npx X …` / `python -m X …` run X: classify X instead. */
export const LAUNCHERS: Record<string, (args: string[]) => string[] | undefined> = {
  npx: (a) => (a[0] && !a[0].startsWith('-') ? a : undefined),
  python: (a) => (a[0] === '-m' ? a.slice(1) : undefined),
  python3: (a) => (a[0] === '-m' ? a.slice(1) : undefined),
  time: (a) => a,
  command: (a) => a,
  nice: (a) => a,
  sudo: (a) => a,
  timeout: (a) => a.slice(1),
  uv: (a) => (a[0] === 'run' ? a.slice(1) : undefined),
  poetry: (a) => (a[0] === 'run' ? a.slice(1) : undefined),
  bundle: (a) => (a[0] === 'exec' ? a.slice(1) : undefined),
};
/** Interpreters running a script: a script named like a generator or fixer mutates. */
export const INTERPRETERS = new Set([
  'node',
  'python',
  'python3',
  'ruby',
  'bash',
  'sh',
  'deno',
  'bun',
]);
export const MUTATING_SCRIPT_FILE =
  /(^|[-_.])(gen|generate|codegen|migrate|migration|fix|format|fmt|write|update|install|setup|seed|clean|bump)([-_.]|$)/i;
/** git subcommands that change the repository but no file in the working tree. */
export const GIT_KEEPS_CONTENT = ['add', 'commit', 'push', 'fetch', 'notes'];
export const SHELLS = new Set(['bash', 'sh', 'zsh', 'dash']);
