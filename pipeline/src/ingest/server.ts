import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PipelineError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { PageHandler } from '../page/serve.js';
import { readBody } from './body.js';
import {
  encodeExportResponseJson,
  encodeExportResponseProto,
  encodeStatusProto,
  RPC_CODE,
  type PartialSuccess,
} from './otlp-response.js';

export type OtlpEncoding = 'protobuf' | 'json';

/** What the receiver does with an accepted OTLP traces body. Throws PipelineError/decode errors. */
export type TracesHandler = (body: Uint8Array, encoding: OtlpEncoding) => Promise<PartialSuccess>;

/** A read-only JSON API route: GET /api/v1/<name>?params. */
export type ApiHandler = (params: URLSearchParams) => Promise<unknown>;

/** A POST route that gets the raw body (size-bounded, gunzipped) and the request headers. */
export interface PostRequest {
  body: Uint8Array;
  headers: IncomingMessage['headers'];
  params: URLSearchParams;
}
/** Its answer: a status and a JSON body. Throwing a PipelineError answers 4xx/5xx as for OTLP. */
export interface PostResponse {
  status: number;
  body: unknown;
}
export type PostHandler = (req: PostRequest) => Promise<PostResponse>;

export interface ReceiverOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  /** Absent in processes that do not ingest (a scaled-out enrich stage): POST /v1/traces is then 404. */
  onTraces?: TracesHandler;
  /** OTLP logs (agents' own telemetry events); absent: POST /v1/logs is 404. */
  onLogs?: TracesHandler;
  /** OTLP metrics (agents' usage counters, kept for cross-checks); absent: POST /v1/metrics is 404. */
  onMetrics?: TracesHandler;
  api?: Record<string, ApiHandler>;
  /** Extra POST routes by exact path (e.g. '/v1/github/webhook', '/api/v1/alerts/check'). */
  post?: Record<string, PostHandler>;
  /** Prometheus text for GET /metrics. */
  metrics?: () => string;
  /** Extra facts for GET /healthz. */
  health?: () => Record<string, unknown>;
  /** The dashboard: static answers for GET paths no other route takes (see page/serve.ts). */
  page?: PageHandler;
  logger?: Logger;
}

export interface Receiver {
  /** The bound address (port resolved when 0 was asked). */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Seconds a client should wait before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 2;

function encodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  const ct = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (ct === 'application/x-protobuf' || ct === 'application/protobuf') return 'protobuf';
  if (ct === 'application/json') return 'json';
  return undefined;
}

function statusFor(err: unknown): {
  status: number;
  rpc: number;
  message: string;
  retriable: boolean;
} {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof PipelineError) {
    switch (err.code) {
      case 'PAYLOAD_TOO_LARGE':
        return { status: 413, rpc: RPC_CODE.invalidArgument, message, retriable: false };
      case 'UNSUPPORTED_MEDIA_TYPE':
        return { status: 415, rpc: RPC_CODE.invalidArgument, message, retriable: false };
      case 'BAD_REQUEST':
        return { status: 400, rpc: RPC_CODE.invalidArgument, message, retriable: false };
      default:
        if (err.retriable)
          return { status: 503, rpc: RPC_CODE.unavailable, message, retriable: true };
        return { status: 500, rpc: RPC_CODE.internal, message, retriable: false };
    }
  }
  // Decoders throw their own typed errors (code OTLP_DECODE_FAILED, retriable false): bad data, 400.
  if (err instanceof Error && 'code' in err && 'retriable' in err) {
    if ((err as { retriable: unknown }).retriable === true)
      return { status: 503, rpc: RPC_CODE.unavailable, message, retriable: true };
    return { status: 400, rpc: RPC_CODE.invalidArgument, message, retriable: false };
  }
  return {
    status: 500,
    rpc: RPC_CODE.internal,
    message: `Internal error: ${message}`,
    retriable: false,
  };
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string | Uint8Array,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(
    res,
    status,
    'application/json',
    JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
  );
}

/**
 * The OTLP/HTTP receiver and the JSON API of a running harness-meter.
 * POST /v1/traces (protobuf or JSON, gzip allowed) · GET /healthz · GET /api/v1/<report>.
 * A bad request gets a 4xx with a reason and never affects the next one.
 */
export async function startReceiver(options: ReceiverOptions): Promise<Receiver> {
  const log = options.logger ?? silentLogger;

  async function handleExport(
    req: IncomingMessage,
    res: ServerResponse,
    handler: TracesHandler | undefined,
    signal: 'traces' | 'logs' | 'metrics',
  ): Promise<void> {
    const encoding = encodingOf(req.headers['content-type']);
    if (encoding === undefined) {
      req.resume();
      sendJson(res, 415, {
        code: RPC_CODE.invalidArgument,
        message: `Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')} is not supported: send application/x-protobuf or application/json (OTLP/HTTP).`,
      });
      return;
    }
    try {
      const body = await readBody(req, options.maxBodyBytes);
      if (!handler)
        throw new PipelineError('BAD_REQUEST', `This process does not ingest ${signal}.`);
      const partial = await handler(body, encoding);
      if (encoding === 'json')
        send(
          res,
          200,
          'application/json',
          encodeExportResponseJson(
            partial,
            signal === 'logs'
              ? 'rejectedLogRecords'
              : signal === 'metrics'
                ? 'rejectedDataPoints'
                : 'rejectedSpans',
          ),
        );
      else send(res, 200, 'application/x-protobuf', encodeExportResponseProto(partial));
    } catch (err) {
      const s = statusFor(err);
      log[s.status >= 500 ? 'warn' : 'info'](`${signal} request rejected`, {
        status: s.status,
        reason: s.message,
      });
      const headers: Record<string, string> = s.retriable
        ? { 'Retry-After': String(RETRY_AFTER_SECONDS) }
        : {};
      if (encoding === 'json')
        send(
          res,
          s.status,
          'application/json',
          JSON.stringify({ code: s.rpc, message: s.message }),
          headers,
        );
      else
        send(res, s.status, 'application/x-protobuf', encodeStatusProto(s.rpc, s.message), headers);
    }
  }

  async function handleApi(
    name: string,
    params: URLSearchParams,
    res: ServerResponse,
  ): Promise<void> {
    const handler = options.api?.[name];
    if (!handler) {
      sendJson(res, 404, {
        error: `No API route ${JSON.stringify(name)}. Known: ${Object.keys(options.api ?? {}).join(', ')}`,
      });
      return;
    }
    try {
      sendJson(res, 200, await handler(params));
    } catch (err) {
      const retriable =
        err instanceof Error &&
        'retriable' in err &&
        (err as { retriable: unknown }).retriable === true;
      const code =
        err instanceof Error && 'code' in err
          ? String((err as { code: unknown }).code)
          : 'INTERNAL';
      const status =
        code === 'INVALID_ARGUMENT' || code === 'BAD_REQUEST' ? 400 : retriable ? 503 : 500;
      sendJson(res, status, { error: err instanceof Error ? err.message : String(err), code });
    }
  }

  async function handlePost(
    handler: PostHandler,
    req: IncomingMessage,
    params: URLSearchParams,
    res: ServerResponse,
  ): Promise<void> {
    try {
      const body = await readBody(req, options.maxBodyBytes);
      const answer = await handler({ body, headers: req.headers, params });
      sendJson(res, answer.status, answer.body);
    } catch (err) {
      const s = statusFor(err);
      log[s.status >= 500 ? 'warn' : 'info']('request rejected', {
        path: req.url,
        status: s.status,
        reason: s.message,
      });
      const code =
        err instanceof Error && 'code' in err
          ? String((err as { code: unknown }).code)
          : 'INTERNAL';
      sendJson(res, s.status, { error: s.message, code });
    }
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = `${req.method ?? 'GET'} ${url.pathname}`;
    let work: Promise<void>;
    if (route === 'POST /v1/traces' && options.onTraces)
      work = handleExport(req, res, options.onTraces, 'traces');
    else if (route === 'POST /v1/metrics' && options.onMetrics)
      work = handleExport(req, res, options.onMetrics, 'metrics');
    else if (route === 'POST /v1/logs' && options.onLogs)
      work = handleExport(req, res, options.onLogs, 'logs');
    else if (req.method === 'POST' && options.post?.[url.pathname])
      work = handlePost(options.post[url.pathname]!, req, url.searchParams, res);
    else if (route === 'GET /metrics' && options.metrics) {
      send(res, 200, 'text/plain; version=0.0.4', options.metrics());
      return;
    } else if (route === 'GET /healthz') {
      sendJson(res, 200, { status: 'ok', ...(options.health?.() ?? {}) });
      return;
    } else if (req.method === 'GET' && url.pathname.startsWith('/api/v1/')) {
      work = handleApi(url.pathname.slice('/api/v1/'.length), url.searchParams, res);
    } else if (req.method === 'GET' && options.page) {
      const page = options.page(url.pathname, String(req.headers['accept-encoding'] ?? ''));
      if (page) {
        send(res, page.status, page.contentType, page.body, page.headers);
        return;
      }
      sendJson(res, 404, { error: `No route for ${route}.` });
      return;
    } else {
      req.resume();
      sendJson(res, url.pathname === '/v1/traces' ? 405 : 404, {
        error: `No route for ${route}. harness-meter accepts POST /v1/traces, POST /v1/logs and GET /healthz, /metrics, /api/v1/<report>.`,
      });
      return;
    }
    work.catch((err: unknown) => {
      log.error('request failed', {
        route,
        error: err instanceof Error ? err.message : String(err),
      });
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  server.requestTimeout = 60_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
