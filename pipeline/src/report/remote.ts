import { PipelineError } from '../errors.js';

/** Bound on how long the CLI waits to learn whether a server is running. */
export const FIND_SERVER_TIMEOUT_MS = 1500;
export const REPORT_TIMEOUT_MS = 60_000;

/** The JSON body of an API answer; anything else is a clear error, not a parser's message. */
async function jsonAnswer(res: Response, apiUrl: string): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new PipelineError(
      'SERVER_UNREACHABLE',
      `${apiUrl} answered HTTP ${res.status} with something that is not harness-meter's JSON (${JSON.stringify(text.slice(0, 120))}): is HM_API_URL the harness-meter server?`,
    );
  }
}

/** Whether a harness-meter server answers at apiUrl (GET /healthz). */
export async function findServer(apiUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${apiUrl}/healthz`, {
      signal: AbortSignal.timeout(FIND_SERVER_TIMEOUT_MS),
    });
    if (!res.ok) return false;
    const body = (await res.json()) as { status?: string };
    return body.status === 'ok';
  } catch {
    return false;
  }
}

/** Headers of every CLI request to a server: the API key (HM_API_KEY) when one is set. */
export function authHeaders(apiKey: string | undefined): Record<string, string> {
  return apiKey ? { authorization: `Bearer ${apiKey}` } : {};
}

/** The error of a refused request; 401/403 say how to send a key. */
export function remoteError(apiUrl: string, status: number, reason: string | undefined): Error {
  const text = reason ?? `HTTP ${status}`;
  if (status === 401 || status === 403)
    return new PipelineError(
      'BAD_REQUEST',
      `The server at ${apiUrl} refused the request (${status}): ${text} Set HM_API_KEY to a key with the right role (harness-meter keys create --role read|admin).`,
    );
  return new PipelineError(
    status === 400 || status === 404 || status === 413 || status === 415
      ? 'BAD_REQUEST'
      : 'SERVER_UNREACHABLE',
    text,
    { retriable: status >= 500 },
  );
}

/** GETs a JSON API route of a running server (e.g. `keys`), with the API key when set. */
export async function getApi<T>(apiUrl: string, path: string, apiKey?: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${apiUrl}/api/v1/${path}`, {
      headers: authHeaders(apiKey),
      signal: AbortSignal.timeout(REPORT_TIMEOUT_MS),
    });
  } catch (e) {
    throw new PipelineError(
      'SERVER_UNREACHABLE',
      `The harness-meter server at ${apiUrl} did not answer (${e instanceof Error ? e.message : String(e)}). Is it still running?`,
      { retriable: true, cause: e },
    );
  }
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw remoteError(apiUrl, res.status, body.error);
  return body;
}

/** Longest the CLI waits for an action on the server (a reprice of a large history). */
export const ACTION_TIMEOUT_MS = 30 * 60_000;

/** POSTs an action (e.g. `reprice`) to a running server's API and returns its JSON answer. */
export async function postAction<T>(
  apiUrl: string,
  path: string,
  params: Record<string, string | undefined>,
  /** A JSON body (e.g. PR facts read on the CLI's side); `{}` when absent. */
  json?: unknown,
  apiKey?: string,
): Promise<T> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  let res: Response;
  try {
    res = await fetch(`${apiUrl}/api/v1/${path}?${q.toString()}`, {
      method: 'POST',
      signal: AbortSignal.timeout(ACTION_TIMEOUT_MS),
      // Always JSON: state-changing routes refuse other content types (no cross-site simple requests).
      headers: { 'content-type': 'application/json', ...authHeaders(apiKey) },
      body: JSON.stringify(json ?? {}),
    });
  } catch (e) {
    throw new PipelineError(
      'SERVER_UNREACHABLE',
      `The harness-meter server at ${apiUrl} did not answer (${e instanceof Error ? e.message : String(e)}). Is it still running?`,
      { retriable: true, cause: e },
    );
  }
  const body = (await jsonAnswer(res, apiUrl)) as T & { error?: string };
  if (!res.ok) throw remoteError(apiUrl, res.status, body.error);
  return body;
}
