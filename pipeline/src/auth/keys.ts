import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys are `hm_<id>_<secret>`: a public 12-hex id (shown by `keys list`, stored on the spans the
 * key wrote) and a 256-bit random secret (base64url). Only the SHA-256 of the secret is stored; a
 * slow password hash would add nothing for a random secret of this size.
 */
const KEY_RE = /^hm_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface NewKey {
  id: string;
  /** The whole key, shown once. */
  token: string;
  secretSha256: string;
}

export function generateKey(): NewKey {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `hm_${id}_${secret}`, secretSha256: sha256Hex(secret) };
}

const sha256Hex = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

/** The id and secret of a key, or undefined when the text is not shaped like one. */
export function parseKey(token: string): { id: string; secret: string } | undefined {
  const m = KEY_RE.exec(token.trim());
  return m ? { id: m[1] ?? '', secret: m[2] ?? '' } : undefined;
}

/** Whether the secret hashes to the stored hash, compared in constant time. */
export function secretMatches(secret: string, storedSha256Hex: string): boolean {
  const given = createHash('sha256').update(secret, 'utf8').digest();
  const stored = Buffer.from(storedSha256Hex, 'hex');
  return stored.length === given.length && timingSafeEqual(given, stored);
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(v ?? '');
  return m?.[1];
}
