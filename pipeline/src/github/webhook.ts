import { createHmac, timingSafeEqual } from 'node:crypto';
import type { PostHandler, PostResponse } from '../ingest/server.js';
import { PipelineError } from '../errors.js';
import type { Logger } from '../logger.js';
import { webhookFacts, type PrFacts } from './events.js';
import { issueIncidents, type IncidentRecord } from './defects.js';

/** Where webhook facts go (ClickHouse in the server; a fake in unit tests). */
export interface PrFactsStore {
  /** Whether this X-GitHub-Delivery already stored something. */
  deliveryStored(deliveryId: string): Promise<boolean>;
  write(facts: PrFacts): Promise<void>;
}

const header = (v: string | string[] | undefined): string =>
  Array.isArray(v) ? (v[0] ?? '') : (v ?? '');

/**
 * Whether `signature` (the X-Hub-Signature-256 header, `sha256=<hex>`) is the HMAC-SHA256 of the
 * body under the secret; compared in constant time.
 */
export function verifySignature(secret: string, body: Uint8Array, signature: string): boolean {
  const m = /^sha256=([0-9a-f]{64})$/i.exec(signature.trim());
  if (!m) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  const given = Buffer.from(m[1] ?? '', 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The X-Hub-Signature-256 value GitHub sends for a body (for tests and replay tools). */
export function signBody(secret: string, body: Uint8Array | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function parsePayload(body: Uint8Array, contentType: string): unknown {
  let text = Buffer.from(body).toString('utf8');
  // GitHub's "application/x-www-form-urlencoded" content type sends the JSON as payload=…
  if (contentType.toLowerCase().startsWith('application/x-www-form-urlencoded'))
    text = new URLSearchParams(text).get('payload') ?? '';
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new PipelineError(
      'BAD_REQUEST',
      'The webhook body is not JSON: set the webhook content type to application/json.',
    );
  }
}

/**
 * POST /v1/github/webhook. Without a secret it refuses everything (503): unsigned data is never
 * accepted. A missing or wrong signature answers 401 and stores nothing. A delivery already
 * stored answers 200 with `duplicate: true`.
 */
export function githubWebhookHandler(options: {
  secret: string | undefined;
  store: PrFactsStore;
  logger?: Logger;
  /** `issues` events: issues with one of `labels` are incidents (defects of the PRs they name). */
  incidents?: {
    labels: readonly string[];
    write(records: IncidentRecord[]): Promise<{ stored: number; unresolved: IncidentRecord[] }>;
  };
}): PostHandler {
  return async (req): Promise<PostResponse> => {
    if (options.secret === undefined || options.secret === '')
      return {
        status: 503,
        body: {
          error:
            'GitHub webhooks are disabled: set HM_GITHUB_WEBHOOK_SECRET to the secret configured on the GitHub webhook, and restart.',
          code: 'WEBHOOK_NOT_CONFIGURED',
        },
      };
    const signature = header(req.headers['x-hub-signature-256']);
    if (signature === '' || !verifySignature(options.secret, req.body, signature))
      return {
        status: 401,
        body: {
          error: `${signature === '' ? 'Missing' : 'Wrong'} X-Hub-Signature-256: the webhook secret on GitHub must equal HM_GITHUB_WEBHOOK_SECRET. Nothing was stored.`,
          code: 'BAD_SIGNATURE',
        },
      };
    const eventName = header(req.headers['x-github-event']);
    const delivery = header(req.headers['x-github-delivery']);
    if (eventName === '' || delivery === '')
      throw new PipelineError(
        'BAD_REQUEST',
        'X-GitHub-Event and X-GitHub-Delivery headers are required (GitHub always sends them).',
      );
    if (eventName === 'ping') return { status: 200, body: { ok: true, event: 'ping' } };
    const payload = parsePayload(req.body, header(req.headers['content-type']));
    if (eventName === 'issues' && options.incidents !== undefined) {
      // Natural keys (issue#N per named PR): a redelivery rewrites the same rows.
      const records = issueIncidents(payload, options.incidents.labels);
      if (records.length === 0)
        return { status: 200, body: { ok: true, event: eventName, ignored: true } };
      const { stored, unresolved } = await options.incidents.write(records);
      // A commit no imported PR brought is named back, so the sender can see it was not linked.
      return {
        status: 200,
        body: {
          ok: true,
          event: eventName,
          incidents: stored,
          unresolved_commits: unresolved.map((u) => u.commit ?? ''),
        },
      };
    }
    const facts = webhookFacts(eventName, payload, delivery);
    if (facts === undefined || facts.events.length + facts.commits.length === 0)
      return { status: 200, body: { ok: true, event: eventName, ignored: true } };
    if (await options.store.deliveryStored(delivery))
      return { status: 200, body: { ok: true, event: eventName, duplicate: true } };
    await options.store.write(facts);
    options.logger?.debug('github webhook stored', {
      event: eventName,
      delivery,
      events: facts.events.length,
      commits: facts.commits.length,
    });
    return {
      status: 200,
      body: {
        ok: true,
        event: eventName,
        events: facts.events.length,
        commits: facts.commits.length,
      },
    };
  };
}
