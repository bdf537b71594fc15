/**
 * The `harness-meter` command. Commands live in ./cli/ (one module per command group, listed in
 * cli/program.ts); this file runs the program and turns every failure into a message that says
 * what to do and an exit code: 0 ok, 1 runtime failure, 2 usage error.
 */
import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { createContext, EXIT, UsageError, type CliIo } from './cli/common.js';
import { createProgramOf } from './cli/program-shell.js';

/** The version of this package (its package.json, next to dist/). */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version?: string;
  };
  return pkg.version ?? '0.0.0';
}

/** Node's own error codes (EADDRINUSE, ERR_…): never printed raw, the message is reworded. */
const NODE_CODE = /^(E[A-Z0-9]+|ERR_[A-Z0-9_]+)$/;

/** The message and exit code of a failure. */
export function describeFailure(e: unknown): { message: string; code: number } {
  if (e instanceof UsageError)
    return {
      message: `error: ${e.message}\n(see: harness-meter help${e.command ? ` ${e.command}` : ''})\n`,
      code: EXIT.usage,
    };
  if (!(e instanceof Error)) return { message: `error: ${String(e)}\n`, code: EXIT.failure };
  const code = 'code' in e ? String((e as { code: unknown }).code) : '';
  // Our own typed errors (BAD_REQUEST, PRICE_OVERRIDES_INVALID…) keep their code: it is documented.
  if (NODE_CODE.test(code)) {
    const hint =
      code === 'ENOENT' || code === 'EACCES'
        ? ' Check the path and its permissions.'
        : code === 'ECONNREFUSED'
          ? ' Is the server running? Start one with `npm start`, or set HM_API_URL.'
          : '';
    return { message: `error: ${e.message}.${hint}\n`, code: EXIT.failure };
  }
  if (code !== '' && e.name !== 'CliFailure')
    return { message: `error [${code}]: ${e.message}\n`, code: EXIT.failure };
  return { message: `error: ${e.message}\n`, code: EXIT.failure };
}

/** Runs the CLI on `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const ctx = createContext(io);
  // `report …` (the command run most, often from scripts) loads the report group alone; every
  // other command, and the root's help, the whole program.
  const program =
    argv[0] === 'report'
      ? createProgramOf(ctx, cliVersion(), [
          (await import('./cli/report-commands.js')).registerReportCommands,
        ])
      : (await import('./cli/program.js')).createProgram(ctx, cliVersion());
  // `help report cost` is `report cost --help` (commander's help command reads one level).
  const args = argv[0] === 'help' && argv.length > 2 ? [...argv.slice(1), '--help'] : [...argv];
  try {
    await program.parseAsync(args, { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    // commander has printed its own message (with "Did you mean …?") and the help pointer.
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    const { message, code } = describeFailure(e);
    io.err(message);
    if (io.env.HM_LOG_LEVEL === 'debug' && e instanceof Error && e.stack) io.err(`${e.stack}\n`);
    return code;
  }
}

// A reader that stops early (`harness-meter report --help | head`) closes the pipe: the next write
// fails with EPIPE. Exit quietly, as other command-line tools do, rather than with an unhandled
// 'error' event and its stack; any other write error is still thrown.
const quitOnClosedPipe = (e: NodeJS.ErrnoException): void => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(process.exitCode ?? EXIT.ok);
};
process.stdout.on('error', quitOnClosedPipe);
process.stderr.on('error', quitOnClosedPipe);

const io: CliIo = {
  out: (s) => void process.stdout.write(s),
  outBytes: (b) => void process.stdout.write(b),
  err: (s) => void process.stderr.write(s),
  isTty: process.stdout.isTTY,
  env: process.env,
};

main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    io.err(describeFailure(e).message);
    process.exitCode = EXIT.failure;
  },
);
