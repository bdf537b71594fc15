import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { PipelineError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { readBody } from './body.js';
import { HTTP_LIMIT_DEFAULTS, type HttpLimits } from './limits.js';
import { RETRY_AFTER_SECONDS, statusFor } from './status.js';
import {
  encodeExportResponseJson,
  encodeExportResponseProto,
  encodeStatusProto,
  RPC_CODE,
  type PartialSuccess,
} from './otlp-response.js';

export type OtlpEncoding = 'protobuf' | 'json';

/**
 * Who sent an OTLP request, as the request guard established it: the API key's id and the
 * identity the key is bound to ('' = no key, or a key bound to no team / developer).
 */
export interface IngestContext {
  keyId: string;
  team: string;
  developer: string;
}

/** The context of a request no guard looked at (no keys, or a receiver without a guard). */
export const ANONYMOUS: IngestContext = Object.freeze({ keyId: '', team: '', developer: '' });

/** What the receiver does with an accepted OTLP traces body. Throws PipelineError/decode errors. */
export type TracesHandler = (
  body: Uint8Array,
  encoding: OtlpEncoding,
  context: IngestContext,
) => Promise<PartialSuccess>;

/** A read-only JSON API route: GET /api/v1/<name>?params. */
export type ApiHandler = (params: URLSearchParams) => Promise<unknown>;

/** An API answer sent as text of its own type (e.g. CSV) instead of JSON. */
export class ApiText {
  readonly contentType: string;
  readonly text: string;
  constructor(contentType: string, text: string) {
    this.contentType = contentType;
    this.text = text;
  }
}

/** A POST route that gets the raw body (size-bounded, gunzipped) and the request headers. */
export interface PostRequest {
  body: Uint8Array;
  headers: IncomingMessage['headers'];
  params: URLSearchParams;
  /** Who sent it (the guard's answer); absent in direct calls (tests), meaning ANONYMOUS. */
  context?: IngestContext;
}
/** Its answer: a status and a JSON body. Throwing a PipelineError answers 4xx/5xx as for OTLP. */
export interface PostResponse {
  status: number;
  body: unknown;
}
export type PostHandler = (req: PostRequest) => Promise<PostResponse>;

/** A static page or file for a GET (and HEAD) on a path no other route serves (the dashboard). */
export interface PageResponse {
  status: number;
  contentType: string;
  body: string | Uint8Array;
  headers?: Record<string, string>;
}
/** `acceptEncoding`: the request's Accept-Encoding, so the dashboard can answer gzip. */
export type PagesHandler = (path: string, acceptEncoding?: string) => PageResponse | undefined;

/** The guard's verdict on a request, taken before its body is read. */
export type GuardDecision =
  | { ok: true; context: IngestContext }
  | { ok: false; status: number; reason: string; code: string };

/** Authentication, authorization and Host checks (see `auth/`); absent: every request is let in. */
export interface RequestGuard {
  check(req: {
    method: string;
    path: string;
    headers: IncomingHttpHeaders;
  }): Promise<GuardDecision>;
}

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
  /** Extra GET routes (static files of the dashboard), asked for paths no other route serves. */
  pages?: PagesHandler;
  /** Prometheus text for GET /metrics. */
  metrics?: () => string | Promise<string>;
  /** Extra facts for GET /healthz. */
  health?: () => Record<string, unknown>;
  /** Who may call what (auth/createRequestGuard); absent: everything is open. */
  guard?: RequestGuard;
  /** HTTP server bounds; missing fields take HTTP_LIMIT_DEFAULTS. */
  limits?: Partial<HttpLimits>;
  logger?: Logger;
}

export interface Receiver {
  /** The bound address (port resolved when 0 was asked). */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export { RETRY_AFTER_SECONDS, statusFor } from './status.js';

function encodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  const ct = mediaType(contentType);
  if (ct === 'application/x-protobuf' || ct === 'application/protobuf') return 'protobuf';
  if (ct === 'application/json') return 'json';
  return undefined;
}

const mediaType = (contentType: string | undefined): string =>
  (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

const jsonText = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

function sendJson(
  reply: FastifyReply,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): FastifyReply {
  return send(reply, status, 'application/json', jsonText(value), headers);
}

function send(
  reply: FastifyReply,
  status: number,
  contentType: string,
  body: string | Uint8Array,
  headers: Record<string, string> = {},
): FastifyReply {
  return (
    reply
      .code(status)
      .headers(headers)
      .header('content-type', contentType)
      // A Buffer, so fastify sends the content type as given (it appends a charset to JSON strings).
      .send(
        typeof body === 'string'
          ? Buffer.from(body, 'utf8')
          : Buffer.from(body.buffer, body.byteOffset, body.length),
      )
  );
}

/** POST routes whose body must be JSON (a browser cannot send that cross-origin without a preflight). */
const JSON_ONLY = 'application/json';
/** The GitHub webhook also arrives form-encoded; its HMAC signature, not the content type, protects it. */
const WEBHOOK_PATH = '/v1/github/webhook';

/**
 * The OTLP/HTTP receiver and the JSON API of a running harness-meter, on fastify.
 * POST /v1/traces|logs|metrics (protobuf or JSON, gzip allowed) · GET /healthz · GET /metrics ·
 * GET /api/v1/<report> · POST routes by path · pages. HEAD answers wherever GET does.
 * A bad request gets a 4xx with a reason and never affects the next one.
 */
export async function startReceiver(options: ReceiverOptions): Promise<Receiver> {
  const log = options.logger ?? silentLogger;
  const limits: HttpLimits = { ...HTTP_LIMIT_DEFAULTS, ...options.limits };
  const app = Fastify({
    logger: false,
    // Bodies reach the routes as streams and are read by readBody (bounded before and after
    // gunzip); fastify's own limit only matters to parsers that buffer, and there are none.
    bodyLimit: options.maxBodyBytes,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxRequestsPerSocket: limits.maxRequestsPerSocket,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      // Node checks the header and request timeouts on this interval (30 s by default).
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    forceCloseConnections: 'idle',
    // A malformed URL (`/api/v1/%`): 400 with the reason, in our JSON shape.
    frameworkErrors: (err, req, reply) => {
      req.raw.resume();
      void sendJson(reply, 400, { error: err.message, message: err.message, code: err.code });
    },
    exposeHeadRoutes: true,
  });
  app.server.maxConnections = limits.maxConnections;

  // Every body reaches the handler as the raw stream; each route checks its own content types.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

  const contexts = new WeakMap<IncomingMessage, IngestContext>();
  const contextOf = (req: FastifyRequest): IngestContext => contexts.get(req.raw) ?? ANONYMOUS;
  const guard = options.guard;
  if (guard) {
    app.addHook('onRequest', async (req, reply) => {
      const path = new URL(req.url, 'http://localhost').pathname;
      const decision = await guard.check({ method: req.method, path, headers: req.headers });
      if (decision.ok) {
        contexts.set(req.raw, decision.context);
        return;
      }
      req.raw.resume();
      log.info('request refused', { path, status: decision.status, reason: decision.reason });
      await sendJson(reply, decision.status, {
        error: decision.reason,
        message: decision.reason,
        code: decision.code,
      });
    });
  }

  // Errors fastify raises itself (a malformed Content-Type, a timeout): the same JSON shape as ours.
  app.setErrorHandler(
    (err: { statusCode?: number; message: string; code?: string }, req, reply) => {
      const status = err.statusCode !== undefined && err.statusCode >= 400 ? err.statusCode : 500;
      if (status >= 500)
        log.error('request failed', { route: `${req.method} ${req.url}`, error: err.message });
      req.raw.resume();
      const message =
        err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? `Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')} is not a valid media type: send application/json (or application/x-protobuf to /v1/*).`
          : err.message;
      const text = status >= 500 ? 'internal error' : message;
      return sendJson(reply, status, { error: text, message: text, code: err.code ?? 'INTERNAL' });
    },
  );

  async function handleExport(
    req: FastifyRequest,
    reply: FastifyReply,
    handler: TracesHandler,
    signal: 'traces' | 'logs' | 'metrics',
  ): Promise<FastifyReply> {
    const encoding = encodingOf(req.headers['content-type']);
    if (encoding === undefined) {
      req.raw.resume();
      return sendJson(reply, 415, {
        code: RPC_CODE.invalidArgument,
        message: `Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')} is not supported: send application/x-protobuf or application/json (OTLP/HTTP).`,
      });
    }
    try {
      const body = await readBody(req.raw, options.maxBodyBytes);
      const partial = await handler(body, encoding, contextOf(req));
      if (encoding === 'json')
        return send(
          reply,
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
      return send(reply, 200, 'application/x-protobuf', encodeExportResponseProto(partial));
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
        return send(
          reply,
          s.status,
          'application/json',
          JSON.stringify({ code: s.rpc, message: s.message }),
          headers,
        );
      return send(
        reply,
        s.status,
        'application/x-protobuf',
        encodeStatusProto(s.rpc, s.message),
        headers,
      );
    }
  }

  async function handleApi(
    name: string,
    params: URLSearchParams,
    reply: FastifyReply,
  ): Promise<FastifyReply> {
    const api = options.api ?? {};
    // Own properties only: /api/v1/constructor must not reach Object.prototype.
    const handler = Object.hasOwn(api, name) ? api[name] : undefined;
    if (!handler) {
      return sendJson(reply, 404, {
        error: `No API route ${JSON.stringify(name)}. Known: ${Object.keys(api).join(', ')}`,
      });
    }
    try {
      const answer = await handler(params);
      if (answer instanceof ApiText) return send(reply, 200, answer.contentType, answer.text);
      return sendJson(reply, 200, answer);
    } catch (err) {
      const s = statusFor(err);
      return sendJson(
        reply,
        s.status,
        { error: s.message, code: s.code },
        s.retriable ? { 'Retry-After': String(RETRY_AFTER_SECONDS) } : {},
      );
    }
  }

  async function handlePost(
    path: string,
    handler: PostHandler,
    req: FastifyRequest,
    reply: FastifyReply,
  ): Promise<FastifyReply> {
    try {
      const ct = mediaType(req.headers['content-type']);
      const accepted =
        ct === JSON_ONLY || (path === WEBHOOK_PATH && ct === 'application/x-www-form-urlencoded');
      if (!accepted) {
        req.raw.resume();
        throw new PipelineError(
          'UNSUPPORTED_MEDIA_TYPE',
          `Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')} is not accepted on ${path}: send application/json (an empty body is fine where the route takes none).`,
        );
      }
      const body = await readBody(req.raw, options.maxBodyBytes);
      const params = new URL(req.url, 'http://localhost').searchParams;
      const answer = await handler({ body, headers: req.headers, params, context: contextOf(req) });
      return sendJson(reply, answer.status, answer.body);
    } catch (err) {
      const s = statusFor(err);
      log[s.status >= 500 ? 'warn' : 'info']('request rejected', {
        path,
        status: s.status,
        reason: s.message,
      });
      return sendJson(
        reply,
        s.status,
        { error: s.message, code: s.code },
        s.retriable ? { 'Retry-After': String(RETRY_AFTER_SECONDS) } : {},
      );
    }
  }

  const exports: [string, TracesHandler | undefined, 'traces' | 'logs' | 'metrics'][] = [
    ['/v1/traces', options.onTraces, 'traces'],
    ['/v1/logs', options.onLogs, 'logs'],
    ['/v1/metrics', options.onMetrics, 'metrics'],
  ];
  for (const [path, handler, signal] of exports) {
    if (handler) app.post(path, (req, reply) => handleExport(req, reply, handler, signal));
  }
  const post = options.post ?? {};
  for (const path of Object.keys(post)) {
    const handler = post[path];
    if (handler) app.post(path, (req, reply) => handlePost(path, handler, req, reply));
  }
  app.get('/healthz', (_req, reply) =>
    sendJson(reply, 200, { status: 'ok', ...(options.health?.() ?? {}) }),
  );
  const metrics = options.metrics;
  if (metrics)
    app.get('/metrics', async (_req, reply) =>
      send(reply, 200, 'text/plain; version=0.0.4; charset=utf-8', await metrics()),
    );
  app.get('/api/v1/*', (req, reply) => {
    const url = new URL(req.url, 'http://localhost');
    return handleApi(url.pathname.slice('/api/v1/'.length), url.searchParams, reply);
  });
  const notFound = (req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    req.raw.resume();
    const path = new URL(req.url, 'http://localhost').pathname;
    return sendJson(reply, path === '/v1/traces' ? 405 : 404, {
      error: `No route for ${req.method} ${path}. harness-meter accepts POST /v1/traces, POST /v1/logs and GET /healthz, /metrics, /api/v1/<report>.`,
    });
  };
  app.get('/*', (req, reply) => {
    const path = new URL(req.url, 'http://localhost').pathname;
    const page = options.pages?.(path, String(req.headers['accept-encoding'] ?? ''));
    if (!page) return notFound(req, reply);
    return send(reply, page.status, page.contentType, page.body, page.headers);
  });
  app.setNotFoundHandler(notFound);

  await app.listen({ port: options.port, host: options.host });
  const addr = app.server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    close: () => (closing ??= app.close()),
  };
}
