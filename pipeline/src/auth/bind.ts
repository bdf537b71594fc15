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
 * so the sender learns of it from `partial_success.error_message`.
 */
export function bindIdentity<T extends SpanRecord>(
  records: readonly T[],
  who: BoundIdentity,
): BindResult<T> {
  let overridden = 0;
  const out = records.map((r) => {
    const team = who.team !== '' ? who.team : r.team;
    const developer = who.developer !== '' ? who.developer : r.developer;
    const claimedOther =
      (who.team !== '' && r.team !== '' && r.team !== who.team) ||
      (who.developer !== '' && r.developer !== '' && r.developer !== who.developer);
    if (claimedOther) overridden++;
    // keyId is named before the spread, then set: adding a property after spreading a record
    // gives every copy a map of its own, and every later reader of the records (pricing, the
    // sink) then runs about 10x slower on them (measured: 9.6 vs 0.8 us per span in priceSpan).
    const bound = { keyId: who.keyId, ...r, team, developer };
    bound.keyId = who.keyId;
    return bound;
  });
  return { records: out, overridden };
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
