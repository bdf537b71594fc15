/** Bounds of the HTTP server (slow clients, idle connections, connection floods). */
export interface HttpLimits {
  /** Longest wait for a request's headers (slowloris). @default 10000 */
  headersTimeoutMs: number;
  /** Longest wait for a whole request, body included. @default 60000 */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. @default 5000 */
  keepAliveTimeoutMs: number;
  /** Open connections at most; further ones are closed at once. @default 1024 */
  maxConnections: number;
  /** Requests per keep-alive connection before the server closes it (0 = no bound). @default 1000 */
  maxRequestsPerSocket: number;
}

export const HTTP_LIMIT_DEFAULTS: HttpLimits = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1024,
  maxRequestsPerSocket: 1000,
});
