/**
 * The CLI's report request to a running server, sent straight away: no `/healthz` round trip
 * first. A refused connection (or none within FIND_SERVER_TIMEOUT_MS) means "no server", which
 * is what the health check used to decide; an answer that is not harness-meter's tells the caller
 * to ask `/healthz` as before (report-run.ts).
 *
 * node:http rather than the global `fetch`: undici, web streams and its body mixins load on the
 * first `fetch` of a process, which cost a short-lived CLI more than the request itself (issue 17,
 * "At scale": a report through the CLI within 2x of curl). One GET with a body read to the end
 * needs none of that.
 */
import type { IncomingMessage } from 'node:http';
import type { ReportName } from '../report/names.js';
import type { ReportRequest } from '../report/service.js';
import { authHeaders, FIND_SERVER_TIMEOUT_MS, REPORT_TIMEOUT_MS } from '../report/remote.js';

/** What the server at HM_API_URL did with the request. */
export type ReportAnswer =
  /** Nothing listens there (refused, unreachable, or no connection within the bound). */
  | { kind: 'no-server' }
  /** Connected, then no complete answer (reset, or nothing within REPORT_TIMEOUT_MS). */
  | { kind: 'no-answer'; error: Error }
  /** An HTTP answer, its body unparsed (see `answerJson`, `verbatimEnvelope`). */
  | { kind: 'http'; status: number; body: Buffer };

/** Whether a parsed body has the shape of a harness-meter report answer or API error. */
export function isHarnessMeterAnswer(json: unknown): json is { rows?: unknown; error?: unknown } {
  if (json === null || typeof json !== 'object') return false;
  const body = json as { rows?: unknown; error?: unknown };
  return Array.isArray(body.rows) || typeof body.error === 'string';
}

/** The URL of a report on the server's HTTP API, with the request's non-empty parameters. */
export function reportUrl(apiUrl: string, name: ReportName, req: ReportRequest): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(req)) if (typeof v === 'string' && v !== '') params.set(k, v);
  return `${apiUrl}/api/v1/reports/${name}?${params.toString()}`;
}

/** An answer's body parsed as JSON; `undefined` when it is not JSON. */
export function answerJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The start of the body a harness-meter server sends for a report (reportApi in report/service.ts
 * serializes reportEnvelope with JSON.stringify): the report's name, then the window, then rows.
 */
const ENVELOPE_HEAD = /^\{"report":"([a-z-]+)","since":"([^"\\]*)","until":"([^"\\]*)","rows":\[/;

/**
 * Whether `body` is harness-meter's report envelope for this report and window, so the CLI can
 * print it as it came instead of parsing and re-printing megabytes of rows (issue 17). Checks the
 * head and the closing `]}` only: the body came whole (`res.complete`) from the server's
 * JSON.stringify. Anything else (an older server, a proxy's page, an error) is parsed as before.
 */
export function verbatimEnvelope(
  body: Buffer,
  name: ReportName,
  window: Pick<ReportRequest, 'since' | 'until'>,
): boolean {
  const head = ENVELOPE_HEAD.exec(body.subarray(0, 256).toString('utf8'));
  if (!head || head[1] !== name || head[2] !== window.since || head[3] !== window.until)
    return false;
  let end = body.length;
  while (end > 0 && (body[end - 1] === 0x0a || body[end - 1] === 0x0d || body[end - 1] === 0x20))
    end--;
  return end >= 2 && body[end - 2] === 0x5d && body[end - 1] === 0x7d; // ']}'
}

/** GETs a report from the server at apiUrl; never throws (the answer says what happened). */
export async function requestReport(
  apiUrl: string,
  name: ReportName,
  req: ReportRequest,
  apiKey: string | undefined,
): Promise<ReportAnswer> {
  const url = new URL(reportUrl(apiUrl, name, req));
  // https (a server behind a TLS proxy) loads the TLS stack only when asked for.
  const { request } =
    url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise<ReportAnswer>((done) => {
    let connected = false;
    let settled = false;
    const settle = (answer: ReportAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(answerTimer);
      done(answer);
    };
    const fail = (error: Error): void =>
      settle(connected ? { kind: 'no-answer', error } : { kind: 'no-server' });
    // A fresh connection, closed after the answer: nothing keeps the CLI's process alive.
    const r = request(url, {
      agent: false,
      headers: { accept: 'application/json', connection: 'close', ...authHeaders(apiKey) },
    });
    const connectTimer = setTimeout(() => {
      if (!connected) r.destroy(new Error(`no connection within ${FIND_SERVER_TIMEOUT_MS} ms`));
    }, FIND_SERVER_TIMEOUT_MS);
    const answerTimer = setTimeout(
      () => r.destroy(new Error(`no answer within ${REPORT_TIMEOUT_MS / 1000} s`)),
      REPORT_TIMEOUT_MS,
    );
    r.on('socket', (socket) => {
      // `connect` for TCP, `secureConnect` would be later still: the TCP handshake is the server.
      if (!socket.connecting) connected = true;
      else socket.once('connect', () => (connected = true));
    });
    r.on('error', fail);
    r.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', fail);
      res.on('aborted', () => fail(new Error('the answer was cut short')));
      res.on('end', () => {
        if (!res.complete) return fail(new Error('the answer was cut short'));
        settle({ kind: 'http', status: res.statusCode ?? 0, body: Buffer.concat(chunks) });
      });
    });
    r.end();
  });
}
