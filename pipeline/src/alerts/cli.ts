import { migrateUp, openStore } from '@harness-meter/queries';
import { storeOptions, type Config } from '../config.js';
import { scanStaleSessions } from '../detect/index.js';
import { PipelineError } from '../errors.js';
import { createLogger } from '../logger.js';
import { loadPriceBook } from '../price/index.js';
import { authHeaders, findServer, remoteError, REPORT_TIMEOUT_MS } from '../report/remote.js';
import { alertEngineOptions, checkInstant } from './pipeline.js';
import { checkAlerts, type AlertCheckResult } from './runner.js';

/** Asks a running server to evaluate (POST /api/v1/alerts/check), or opens the store itself. */
export async function runAlertsCheck(
  config: Config,
  at: string | undefined,
): Promise<{ result: AlertCheckResult; via: string }> {
  const when = checkInstant(at ?? null);
  if (await findServer(config.apiUrl)) {
    const url = `${config.apiUrl}/api/v1/alerts/check?at=${encodeURIComponent(when.toISOString())}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...authHeaders(config.apiKey) },
        body: '{}',
        signal: AbortSignal.timeout(REPORT_TIMEOUT_MS),
      });
    } catch (e) {
      throw new PipelineError(
        'SERVER_UNREACHABLE',
        `The harness-meter server at ${config.apiUrl} did not answer (${e instanceof Error ? e.message : String(e)}). Is it still running?`,
        { retriable: true, cause: e },
      );
    }
    const body = (await res.json()) as AlertCheckResult & { error?: string };
    if (!res.ok) throw remoteError(config.apiUrl, res.status, body.error);
    return { result: body, via: config.apiUrl };
  }
  const client = await openStore(storeOptions(config));
  try {
    await migrateUp(client, config.database);
    const options = alertEngineOptions(client, config, createLogger(config.logLevel));
    await scanStaleSessions(client, config.database, loadPriceBook(config.pricesFile), 0);
    return {
      result: await checkAlerts(options, when),
      via: config.clickhouseUrl ?? config.dataDir,
    };
  } finally {
    await client.close();
  }
}

/** Text of a check for a terminal. */
export function formatAlertsCheck(r: AlertCheckResult, via: string): string {
  const lines = [
    `alerts check at ${r.at} (${via}): ${r.holding} condition(s) hold, ${r.notices.length} new notice(s)`,
  ];
  for (const n of r.notices) {
    lines.push(`  [${n.state}] ${n.rule_id} ${n.entity_kind} ${n.entity}: ${n.summary}`);
    if (n.top_sessions.length > 0)
      lines.push(`    top sessions: ${n.top_sessions.map((s) => s.session_id).join(', ')}`);
    lines.push(`    detail: ${n.command}`);
  }
  for (const d of r.deliveries)
    lines.push(`  webhook ${d.notice_id}: ${d.status} after ${d.attempts} attempt(s)`);
  if (r.notices.length === 0) lines.push('  nothing changed (open alerts are not re-sent)');
  return lines.join('\n') + '\n';
}
