import {
  API_KEY_ROLES,
  insertApiKey,
  listApiKeys,
  revokeApiKey,
  toClickHouseTime,
  type ApiKeyListRow,
  type ApiKeyRole,
  type ClickHouseClient,
} from '@harness-meter/queries';
import { PipelineError } from '../errors.js';
import type { ApiHandler, PostHandler } from '../ingest/server.js';
import type { Logger } from '../logger.js';
import { generateKey } from './keys.js';

/** What `keys create` asks for (text, as from flags or a JSON body). */
export interface KeyRequest {
  role: string;
  name?: string;
  team?: string;
  developer?: string;
}

/** A created key: its public fields and, once, the whole key. */
export interface CreatedKey {
  id: string;
  name: string;
  role: ApiKeyRole;
  team: string;
  developer: string;
  created_at: string;
  key: string;
}

const FIELD_MAX = 200;

function text(value: unknown, field: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string' || value.length > FIELD_MAX || /\p{Cc}/u.test(value))
    throw new PipelineError(
      'BAD_REQUEST',
      `--${field}: expected text of at most ${FIELD_MAX} characters without control characters.`,
    );
  return value.trim();
}

/** Checks a key request; throws BAD_REQUEST with what to write instead. */
export function checkKeyRequest(req: KeyRequest): Required<KeyRequest> & { role: ApiKeyRole } {
  if (!(API_KEY_ROLES as readonly string[]).includes(req.role))
    throw new PipelineError(
      'BAD_REQUEST',
      `--role ${JSON.stringify(req.role)}: use ingest (send OTLP), read (reports) or admin (everything).`,
    );
  const role = req.role as ApiKeyRole;
  const team = text(req.team, 'team');
  const developer = text(req.developer, 'developer');
  if (role !== 'ingest' && (team !== '' || developer !== ''))
    throw new PipelineError(
      'BAD_REQUEST',
      '--team and --developer bind what an ingest key sends: use them with --role ingest only.',
    );
  return { role, name: text(req.name, 'name'), team, developer };
}

/** Creates a key in the store; the returned `key` is the only copy of the secret. */
export async function createApiKey(
  client: ClickHouseClient,
  db: string,
  req: KeyRequest,
  now: Date = new Date(),
): Promise<CreatedKey> {
  const checked = checkKeyRequest(req);
  const made = generateKey();
  const created_at = toClickHouseTime(now);
  await insertApiKey(client, db, {
    id: made.id,
    ...checked,
    secret_sha256: made.secretSha256,
    created_at,
    revoked_at: null,
  });
  return { id: made.id, ...checked, created_at, key: made.token };
}

/** Revokes a key by id; NOT_FOUND-like BAD_REQUEST when there is none. */
export async function revokeKey(
  client: ClickHouseClient,
  db: string,
  id: string,
): Promise<Omit<ApiKeyListRow, 'spans' | 'last_span_at'>> {
  if (!/^[0-9a-f]{12}$/.test(id))
    throw new PipelineError(
      'BAD_REQUEST',
      `Key id ${JSON.stringify(id)}: expected the 12 hex characters keys list shows.`,
    );
  const row = await revokeApiKey(client, db, id);
  if (!row)
    throw new PipelineError('BAD_REQUEST', `No key ${id}: harness-meter keys list shows the ids.`);
  const { secret_sha256: _hash, ...shown } = row;
  return shown;
}

function jsonBody(body: Uint8Array): Record<string, unknown> {
  if (body.length === 0) return {};
  try {
    const v: unknown = JSON.parse(Buffer.from(body).toString('utf8'));
    if (typeof v === 'object' && v !== null && !Array.isArray(v))
      return v as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new PipelineError('BAD_REQUEST', 'Expected a JSON object body, e.g. {"role": "ingest"}.');
}

/**
 * The admin routes of a server that holds the store: GET /api/v1/keys (list, with the spans each
 * key wrote), POST /api/v1/keys (create; the key is in the answer, once), POST /api/v1/keys/revoke.
 * `changed` lets the request guard see the change at once.
 */
export function keysRoutes(
  client: ClickHouseClient,
  options: { db: string; logger: Logger; changed: () => void },
): { api: Record<string, ApiHandler>; post: Record<string, PostHandler> } {
  return {
    api: { keys: async () => ({ keys: await listApiKeys(client, options.db) }) },
    post: {
      '/api/v1/keys': async ({ body, context }) => {
        const b = jsonBody(body);
        const created = await createApiKey(client, options.db, {
          role: typeof b.role === 'string' ? b.role : '',
          ...(b.name === undefined ? {} : { name: b.name as string }),
          ...(b.team === undefined ? {} : { team: b.team as string }),
          ...(b.developer === undefined ? {} : { developer: b.developer as string }),
        });
        options.changed();
        options.logger.info('API key created', {
          id: created.id,
          role: created.role,
          by: context?.keyId || '(no key: open loopback server)',
        });
        return { status: 201, body: created };
      },
      '/api/v1/keys/revoke': async ({ body, context }) => {
        const b = jsonBody(body);
        const revoked = await revokeKey(client, options.db, typeof b.id === 'string' ? b.id : '');
        options.changed();
        options.logger.info('API key revoked', { id: revoked.id, by: context?.keyId ?? '' });
        return { status: 200, body: { revoked } };
      },
    },
  };
}
