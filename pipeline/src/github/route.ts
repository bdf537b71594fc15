import { deliveryStored, insertPrFacts, type ClickHouseClient } from '@harness-meter/queries';
import type { PostHandler } from '../ingest/server.js';
import type { Logger } from '../logger.js';
import { githubWebhookHandler } from './webhook.js';
import { prFactsRoute } from './facts-route.js';
import { gitLinesRoute, storeIncidents } from './git-import.js';
import { DEFAULT_INCIDENT_LABELS } from './defects.js';

/**
 * POST /v1/github/webhook (and /api/v1/import/pr-facts, git-lines, git-walk-state, incidents, for
 * the CLI's imports) of a process that
 * holds the store: facts go straight to ClickHouse.
 */
export function githubWebhookRoute(
  client: ClickHouseClient,
  options: {
    db: string;
    secret: string | undefined;
    logger: Logger;
    /** Labels that make an issue an incident (`issues` webhook); default bug, incident. */
    incidentLabels?: readonly string[];
  },
): Record<string, PostHandler> {
  return {
    ...prFactsRoute(client, options),
    ...gitLinesRoute(client, options),
    '/v1/github/webhook': githubWebhookHandler({
      secret: options.secret,
      logger: options.logger,
      store: {
        deliveryStored: (id) => deliveryStored(client, options.db, id),
        write: (facts) => insertPrFacts(client, options.db, facts),
      },
      incidents: {
        labels: options.incidentLabels ?? DEFAULT_INCIDENT_LABELS,
        write: (records) => storeIncidents(client, options.db, records, 'webhook-issues'),
      },
    }),
  };
}
