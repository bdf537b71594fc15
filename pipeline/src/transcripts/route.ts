/**
 * GET /api/v1/transcripts/otlp-sessions?session=ID&session=ID…: which of these sessions the server
 * already has from an agent's OTLP events. `harness-meter import` asks before sending a session's
 * spans, and leaves those sessions out (see README, "Try it on your own history").
 */
import { otlpSessions, type ClickHouseClient } from '@harness-meter/queries';
import { PipelineError } from '../errors.js';

/** Bound on the sessions asked about in one request (the CLI sends fewer). */
export const MAX_SESSIONS_PER_QUERY = 200;

export function transcriptApi(
  client: ClickHouseClient,
  db: string,
): Record<string, (p: URLSearchParams) => Promise<unknown>> {
  return {
    'transcripts/otlp-sessions': async (p) => {
      const sessions = p.getAll('session').filter((s) => s !== '');
      if (sessions.length > MAX_SESSIONS_PER_QUERY)
        throw new PipelineError(
          'BAD_REQUEST',
          `At most ${MAX_SESSIONS_PER_QUERY} session parameters per request (got ${sessions.length}).`,
        );
      return { sessions: [...(await otlpSessions(client, db, sessions))] };
    },
  };
}
