/**
 * What every CLI command module shares: printing, the exit codes, the usage error and the
 * configuration (read once, lazily, so `--help` and `--version` work with a broken environment).
 */
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../config.js';

/**
 * config.ts is imported when a command runs (program-shell.ts, preAction), never for `--help` or
 * `--version`. It no longer loads redaction (the decode defaults moved to decode/limits.ts), so
 * this mainly keeps `--help` from reading the environment at all.
 */
let configModule: typeof import('../config.js') | undefined;
export async function prepareConfig(): Promise<void> {
  configModule ??= await import('../config.js');
}

/** Exit codes, documented in `harness-meter help` and the README. */
export const EXIT = {
  /** The command did what it was asked. */
  ok: 0,
  /** A runtime failure: no server, a refused request, a locked data folder, a failed export. */
  failure: 1,
  /** A usage error: unknown command or flag, a missing or malformed argument. */
  usage: 2,
} as const;

/** A usage error: the message says what to type instead; exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** The command whose help the message points to, e.g. `report cost`. */
  readonly command: string;
  constructor(message: string, command = '') {
    super(message);
    this.command = command;
  }
}

/** A runtime failure the user can act on (the message says how); exits 1 without a stack. */
export class CliFailure extends Error {
  override readonly name = 'CliFailure';
}

export interface CliIo {
  out(text: string): void;
  /** Bytes to stdout as they are (a server's answer printed verbatim); else `out` of their text. */
  outBytes?(bytes: Uint8Array): void;
  err(text: string): void;
  /** Whether stdout is a terminal (colour, progress bars, table width). */
  isTty: boolean;
  /** The environment, for COLUMNS / NO_COLOR (configuration proper goes through config.ts). */
  env: NodeJS.ProcessEnv;
}

/** What a command group's `register` function receives. */
export interface CliContext {
  io: CliIo;
  /** The configuration from the environment, read on first use. */
  config(): Config;
}

/** A command group: one module, one `register` call in the registry (program.ts). */
export type CommandGroup = (program: Command, ctx: CliContext) => void;

export function createContext(io: CliIo): CliContext {
  let config: Config | undefined;
  return {
    io,
    config: () => {
      if (configModule === undefined)
        throw new Error(
          'CLI configuration read before prepareConfig() (a command ran outside the program)',
        );
      return (config ??= configModule.loadConfig(io.env));
    },
  };
}

/** The full command path of a commander command, e.g. `report cost`. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Whether the configured local store holds data: a ClickHouse server by URL always counts, a
 * chDB folder only when it exists and is not empty. Read commands check this before opening the
 * folder, so they never create one by accident.
 */
export function localStoreExists(config: Config): boolean {
  if (config.clickhouseUrl) return true;
  const dir = resolve(config.dataDir);
  return existsSync(dir) && readdirSync(dir).length > 0;
}

/** The error of a read command that found neither a server nor a data folder. */
export function noServerNoData(config: Config): CliFailure {
  return new CliFailure(
    `no server at ${config.apiUrl} and no data in ${resolve(config.dataDir)}: start one with \`npm start\` ` +
      `(or \`npx harness-meter start\`), or point HM_API_URL / HM_DATA_DIR at yours.`,
  );
}
