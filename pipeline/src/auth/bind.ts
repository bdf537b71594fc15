import type { SpanRecord } from '../model.js';

/** The identity an ingest key stamps on what it sends ('' = not bound). */
export interface BoundIdentity {
  keyId: string;
  team: string;
  developer: string;
}

export interface BindResult<T> {
  records: T[];
  /** Spans that claimed another team or developer than the key's, stored with the key's. */
  overridden: number;
}

/**
 * Stamps the key's id, and its team and developer where the key is bound, on every record. A span
 * that claimed other values is not rejected: it is stored under the key's identity and counted,
 * so the sender learns of it from `partial_success.error_message`. The records are changed in place
 * and returned.
 */
export function bindIdentity<T extends SpanRecord>(
  records: readonly T[],
  who: BoundIdentity,
): BindResult<T> {
  let overridden = 0;
  // In place, as the session stamper does: the records are the decoder's own, fresh per request.
  // A copy per record (a spread of ~50 fields) cost more than the rest of binding; a property added
  // after a spread also gave every copy a map of its own, and pricing them ran ~10x slower.
  for (const r of records) {
    const team = who.team !== '' ? who.team : r.team;
    const developer = who.developer !== '' ? who.developer : r.developer;
    const claimedOther =
      (who.team !== '' && r.team !== '' && r.team !== who.team) ||
      (who.developer !== '' && r.developer !== '' && r.developer !== who.developer);
    if (claimedOther) overridden++;
    r.team = team;
    r.developer = developer;
    r.keyId = who.keyId;
  }
  return { records: records.slice(), overridden };
}

/** The warning that goes to `partial_success.error_message` (rejected count unchanged). */
export function overrideMessage(overridden: number, who: BoundIdentity): string {
  if (overridden === 0) return '';
  const as = [
    who.team !== '' ? `team ${JSON.stringify(who.team)}` : '',
    who.developer !== '' ? `developer ${JSON.stringify(who.developer)}` : '',
  ]
    .filter((s) => s !== '')
    .join(' and ');
  return `${overridden} span(s) claimed another team or developer than API key ${who.keyId} is bound to: stored as ${as}.`;
}
