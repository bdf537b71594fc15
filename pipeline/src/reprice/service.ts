/**
 * Re-pricing inside a running server (POST /api/v1/reprice): the server reloads its price data
 * (bundled table + HM_PRICES_FILE) so that new calls are priced the same way, flushes what it has
 * queued, and re-prices stored calls. Runs are serialized: a second request waits for the first,
 * so the rollup's delta rows are never written twice for the same change.
 */
import type { ClickHouseClient } from '@harness-meter/queries';
import { PipelineError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ReloadablePriceBook } from '../price/index.js';
import { parseTime } from '../report/params.js';
import type { PostHandler } from '../ingest/server.js';
import { repriceStoredCosts, type RepriceResult } from './reprice.js';

/** What the API answers and the CLI prints (bigints as decimal text). */
export interface RepriceSummary {
  scanned: number;
  changed: number;
  nowPriced: number;
  nowUnpriced: number;
  deltaNanos: string;
  pages: number;
  since: string | null;
  model: string | null;
}

export function summarize(r: RepriceResult, since?: Date, model?: string): RepriceSummary {
  return {
    scanned: r.scanned,
    changed: r.changed,
    nowPriced: r.nowPriced,
    nowUnpriced: r.nowUnpriced,
    deltaNanos: r.deltaNanos.toString(),
    pages: r.pages,
    since: since?.toISOString() ?? null,
    model: model ?? null,
  };
}

export function repriceRoute(deps: {
  client: ClickHouseClient;
  db: string;
  book: ReloadablePriceBook;
  /** Writes out spans the sink still holds (priced with the old data), before re-pricing. */
  flush: () => Promise<void>;
  logger: Logger;
}): PostHandler {
  let queue: Promise<unknown> = Promise.resolve();
  return async ({ params }) => {
    const sinceText = params.get('since');
    const since = sinceText ? parseTime(sinceText, 'since') : undefined;
    const model = params.get('model') || undefined;
    const run = async (): Promise<RepriceSummary> => {
      try {
        deps.book.reload();
      } catch (err) {
        throw new PipelineError(
          'BAD_REQUEST',
          `The price data could not be reloaded, nothing was re-priced: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      await deps.flush();
      const r = await repriceStoredCosts(deps.client, deps.book, {
        db: deps.db,
        ...(since === undefined ? {} : { since }),
        ...(model === undefined ? {} : { model }),
        logger: deps.logger,
      });
      deps.logger.info('repriced', { ...summarize(r, since, model) });
      return summarize(r, since, model);
    };
    const mine = queue.then(run, run);
    queue = mine.catch(() => undefined);
    return { status: 200, body: await mine };
  };
}
