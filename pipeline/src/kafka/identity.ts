import type { IHeaders } from 'kafkajs';
import type { BoundIdentity } from '../auth/index.js';
import type { IngestContext } from '../ingest/server.js';

/**
 * The API key that sent an OTLP request travels to the repartition stage as Kafka headers, so a
 * bound key's team and developer are stamped there as in embedded mode. Messages without them (the
 * Collector's Kafka exporter) are anonymous. Whoever may write the raw topics is trusted alike.
 */
const H_KEY = 'hm-key-id';
const H_TEAM = 'hm-key-team';
const H_DEVELOPER = 'hm-key-developer';

export function identityHeaders(context: IngestContext): { headers?: IHeaders } {
  if (context.keyId === '') return {};
  return {
    headers: { [H_KEY]: context.keyId, [H_TEAM]: context.team, [H_DEVELOPER]: context.developer },
  };
}

const text = (v: IHeaders[string]): string => {
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? '' : one.toString();
};

/** The identity of a raw-topic message ('' everywhere when it carries none). */
export function identityOf(headers: IHeaders | undefined): BoundIdentity {
  if (!headers) return { keyId: '', team: '', developer: '' };
  return {
    keyId: text(headers[H_KEY]),
    team: text(headers[H_TEAM]),
    developer: text(headers[H_DEVELOPER]),
  };
}
