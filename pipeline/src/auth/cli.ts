import { listApiKeys, migrateUp, openStore, type ApiKeyListRow } from '@harness-meter/queries';
import { storeOptions, type Config } from '../config.js';
import { PipelineError } from '../errors.js';
import { findServer, getApi, postAction } from '../report/remote.js';
import { createApiKey, revokeKey, type CreatedKey } from './service.js';

/** Flags of `harness-meter keys …` as parsed by the CLI. */
export interface KeysFlags {
  role?: string;
  name?: string;
  team?: string;
  developer?: string;
  format?: string;
}

export const KEYS_USAGE =
  'Usage: harness-meter keys create --role ingest|read|admin [--team T] [--developer D] [--name N] | keys list [--format json] | keys revoke ID';

/**
 * `harness-meter keys create|list|revoke`: through a running server's admin routes (sending
 * HM_API_KEY), or on the store itself when no server answers. Returns what to print; for `create`
 * the key is the last line.
 */
export async function runKeysCommand(
  config: Config,
  sub: string | undefined,
  arg: string | undefined,
  flags: KeysFlags,
): Promise<string> {
  if (sub !== 'create' && sub !== 'list' && sub !== 'revoke')
    throw new PipelineError('BAD_REQUEST', KEYS_USAGE);
  const server = await findServer(config.apiUrl);
  const via = server ? `the server at ${config.apiUrl}` : (config.clickhouseUrl ?? config.dataDir);
  if (sub === 'create') {
    const req = {
      role: flags.role ?? '',
      ...(flags.name === undefined ? {} : { name: flags.name }),
      ...(flags.team === undefined ? {} : { team: flags.team }),
      ...(flags.developer === undefined ? {} : { developer: flags.developer }),
    };
    const created = server
      ? await postAction<CreatedKey>(config.apiUrl, 'keys', {}, req, config.apiKey)
      : await onStore(config, (client) => createApiKey(client, config.database, req));
    return formatCreated(created, via);
  }
  if (sub === 'list') {
    const keys = server
      ? (await getApi<{ keys: ApiKeyListRow[] }>(config.apiUrl, 'keys', config.apiKey)).keys
      : await onStore(config, (client) => listApiKeys(client, config.database));
    return flags.format === 'json' ? JSON.stringify(keys, null, 2) + '\n' : formatList(keys, via);
  }
  if (arg === undefined || arg.trim() === '') throw new PipelineError('BAD_REQUEST', KEYS_USAGE);
  const id = arg.trim();
  const revoked = server
    ? (
        await postAction<{ revoked: { id: string; revoked_at: string | null } }>(
          config.apiUrl,
          'keys/revoke',
          {},
          { id },
          config.apiKey,
        )
      ).revoked
    : await onStore(config, (client) => revokeKey(client, config.database, id));
  return `key ${revoked.id} revoked at ${revoked.revoked_at ?? '?'} (${via})\n`;
}

async function onStore<T>(
  config: Config,
  work: (client: Awaited<ReturnType<typeof openStore>>) => Promise<T>,
): Promise<T> {
  const client = await openStore(storeOptions(config));
  try {
    await migrateUp(client, config.database);
    return await work(client);
  } finally {
    await client.close();
  }
}

function formatCreated(k: CreatedKey, via: string): string {
  const bound = [k.team ? `team ${k.team}` : '', k.developer ? `developer ${k.developer}` : '']
    .filter((s) => s !== '')
    .join(', ');
  return (
    `created ${k.role} key ${k.id}${k.name ? ` (${k.name})` : ''}${bound ? `, bound to ${bound}` : ''} in ${via}\n` +
    `send it as Authorization: Bearer <key> (OTLP exporters: OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer <key>"; the CLI: HM_API_KEY).\n` +
    `this is the only time the key is shown:\n` +
    `${k.key}\n`
  );
}

function formatList(keys: readonly ApiKeyListRow[], via: string): string {
  if (keys.length === 0)
    return `no API keys in ${via}: loopback clients need none; create one with harness-meter keys create --role admin\n`;
  const head = [
    'id',
    'role',
    'name',
    'team',
    'developer',
    'created_at',
    'revoked_at',
    'spans',
    'last_span_at',
  ];
  const rows = keys.map((k) => [
    k.id,
    k.role,
    k.name,
    k.team,
    k.developer,
    k.created_at,
    k.revoked_at ?? '',
    String(k.spans),
    k.last_span_at ?? '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [`API keys (${via})`, line(head), ...rows.map(line)].join('\n') + '\n';
}
