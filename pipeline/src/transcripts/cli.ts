/**
 * `harness-meter import claude-code [DIR…] | codex [DIR] | gemini [DIR]`, as a function of parsed
 * options (the CLI only dispatches here). Like `import prs|git`: a running server (HM_API_URL)
 * gets the spans over its OTLP endpoint (POST /v1/traces, OTLP/JSON); without one, the same span
 * path (decode → price → sink) runs here on the data folder.
 */
import { migrateUp, openStore, otlpSessions } from '@harness-meter/queries';
import { storeOptions, transcriptConfig, type Config } from '../config.js';
import { createSpanPath } from '../embedded.js';
import { PipelineError } from '../errors.js';
import { createLogger } from '../logger.js';
import { loadPriceBook } from '../price/index.js';
import { authHeaders, findServer } from '../report/remote.js';
import { createSpanSink } from '../sink/sink.js';
import type { TranscriptSource } from './common.js';
import {
  gitUserEmail,
  importTranscripts,
  watchTranscripts,
  type ImportOptions,
  type ImportProgress,
  type ImportSummary,
} from './import.js';
import { toOtlpJson } from './otlp.js';

/** The import kinds of the CLI and the source each one reads. */
export const TRANSCRIPT_KINDS: Readonly<Record<string, TranscriptSource>> = {
  'claude-code': 'claude-code',
  codex: 'codex',
  gemini: 'gemini-cli',
};

export interface TranscriptImportRequest {
  kind: string;
  /** Folders or files; empty = the agent's default folder. */
  paths: string[];
  developer?: string | undefined;
  watch?: boolean | undefined;
  captureContent?: boolean | undefined;
  /** Seconds a file must be untouched before its last entries count as final. */
  settleSeconds?: string | undefined;
}

/** One line per round: what was read and sent, and where the malformed lines are. */
export function formatImportSummary(s: ImportSummary, where: string): string {
  const st = s.stats;
  let text =
    `import ${s.source}: ${s.files} file(s) (${s.unchanged} unchanged), ${st.lines} new line(s): ` +
    `${st.llmCalls} LLM call(s), ${st.toolCalls} tool call(s) → ${s.spans} span(s) ${where}; ` +
    `${st.duplicates} repeated entr(y/ies) counted once, ${st.noUsage} without billable usage, ${st.malformed} malformed line(s)\n`;
  if (s.otlpSessions.length > 0)
    text += `  ${s.otlpSessions.length} session(s) left out: the store has them from the agent's OpenTelemetry events (${s.otlpSessions.slice(0, 3).join(', ')}${s.otlpSessions.length > 3 ? ', …' : ''})\n`;
  if (s.active > 0)
    text += `  ${s.active} file(s) still being written: their last entries wait until they settle (run again, or use --watch)\n`;
  for (const i of s.issues) text += `  malformed: ${i.file}:${i.line}: ${i.reason}\n`;
  if (st.malformed > s.issues.length)
    text += `  … and ${st.malformed - s.issues.length} more malformed line(s)\n`;
  return text;
}

/** Where a one-off import reports how far it is (the CLI's progress bar); stopped before the summary. */
export interface ImportProgressSink {
  update(progress: ImportProgress): void;
  stop(): void;
}

/** Runs the import (or `--watch`) and writes its summary with `out`. */
export async function runTranscriptImport(
  config: Config,
  req: TranscriptImportRequest,
  out: (s: string) => void,
  env: NodeJS.ProcessEnv = process.env,
  progress?: ImportProgressSink,
): Promise<void> {
  const source = TRANSCRIPT_KINDS[req.kind];
  if (!source)
    throw new PipelineError(
      'BAD_REQUEST',
      `import ${req.kind}: use claude-code, codex or gemini (or prs, git).`,
    );
  const tc = transcriptConfig(env, config.dataDir);
  const paths =
    req.paths.length > 0
      ? req.paths
      : source === 'claude-code'
        ? tc.claudeDirs
        : source === 'codex'
          ? [tc.codexDir]
          : [tc.geminiDir];
  const settle = req.settleSeconds === undefined ? undefined : Number(req.settleSeconds);
  if (settle !== undefined && !(Number.isFinite(settle) && settle >= 0))
    throw new PipelineError(
      'BAD_REQUEST',
      `--settle ${req.settleSeconds}: give seconds, e.g. --settle 60.`,
    );
  const base = {
    source,
    paths,
    stateFile: tc.stateFile,
    developer: req.developer ?? gitUserEmail(),
    captureContent: req.captureContent === true,
    ...(settle === undefined ? {} : { settleMs: settle * 1000 }),
  };
  const server = await findServer(config.apiUrl);
  if (server) {
    let canCheck = true;
    const options: ImportOptions = {
      ...base,
      send: async (spans) => {
        const res = await fetch(`${config.apiUrl}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...authHeaders(config.apiKey) },
          body: toOtlpJson(spans),
          signal: AbortSignal.timeout(120_000),
        });
        if (!res.ok)
          throw new PipelineError(
            res.status === 400 ? 'BAD_REQUEST' : 'SERVER_UNREACHABLE',
            `The server at ${config.apiUrl} refused the imported spans: HTTP ${res.status} ${await res.text()}`,
            { retriable: res.status >= 500 },
          );
      },
      otlpSessions: async (sessions) => {
        if (!canCheck) return new Set<string>();
        const q = new URLSearchParams(sessions.map((s): [string, string] => ['session', s]));
        const res = await fetch(
          `${config.apiUrl}/api/v1/transcripts/otlp-sessions?${q.toString()}`,
          { headers: authHeaders(config.apiKey), signal: AbortSignal.timeout(60_000) },
        );
        if (res.status === 404) {
          // A Kafka ingest-only process holds no store: it cannot tell; say so once and go on.
          canCheck = false;
          out(
            `note: the server at ${config.apiUrl} cannot say which sessions it has from OpenTelemetry events (no store in this process); sessions sent both ways would count twice\n`,
          );
          return new Set<string>();
        }
        if (!res.ok)
          throw new PipelineError(
            'SERVER_UNREACHABLE',
            `The server at ${config.apiUrl} could not say which sessions it has from OTLP (HTTP ${res.status}): ${await res.text()}`,
            { retriable: res.status >= 500 },
          );
        return new Set(((await res.json()) as { sessions?: string[] }).sessions ?? []);
      },
    };
    await run(options, req.watch === true, progress, (s) =>
      out(formatImportSummary(s, `sent to ${config.apiUrl}`)),
    );
    return;
  }
  const client = await openStore(storeOptions(config));
  const logger = createLogger(config.logLevel);
  try {
    await migrateUp(client, config.database);
    const sink = createSpanSink(client, { db: config.database, logger });
    const path = createSpanPath(loadPriceBook(config.pricesFile), sink);
    const options: ImportOptions = {
      ...base,
      send: async (spans) => {
        const r = await path.handleTraces(Buffer.from(toOtlpJson(spans)), 'json');
        if (r.rejected > 0)
          logger.warn('imported spans rejected', { rejected: r.rejected, message: r.message });
      },
      otlpSessions: (sessions) => otlpSessions(client, config.database, sessions),
    };
    try {
      await run(options, req.watch === true, progress, (s) =>
        out(formatImportSummary(s, `stored in ${config.clickhouseUrl ?? config.dataDir}`)),
      );
    } finally {
      await sink.close();
    }
  } finally {
    await client.close();
  }
}

async function run(
  options: ImportOptions,
  watch: boolean,
  progress: ImportProgressSink | undefined,
  report: (s: ImportSummary) => void,
): Promise<void> {
  if (!watch) {
    // Progress of a one-off run only: --watch rounds are short and print their own line.
    let summary: ImportSummary;
    try {
      summary = await importTranscripts(
        progress ? { ...options, onProgress: (p) => progress.update(p) } : options,
      );
    } finally {
      progress?.stop();
    }
    report(summary);
    return;
  }
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await watchTranscripts(
      options,
      (s) => {
        if (s.stats.lines > 0 || s.spans > 0) report(s);
      },
      stop.signal,
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
