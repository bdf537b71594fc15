import { canonicalJson } from './hashing.js';

/** Bound on captured content per attribute (characters), when content capture is on. */
export const MAX_CAPTURED_CHARS = 8192;

/** What replaces a secret. */
export const REDACTED = '[REDACTED]';

/**
 * A secret-looking pattern. `keep`: what of the match stays — nothing, or group 1 (a prefix such
 * as `Bearer ` or `password=`), with the replacement quoted when it stands for a JSON string.
 */
interface SecretPattern {
  re: RegExp;
  keep: 'none' | 'prefix' | 'prefix-quoted';
}

const SECRET_PATTERNS: readonly SecretPattern[] = [
  // PEM private keys (RSA, EC, OPENSSH, PKCS#8, encrypted)
  {
    re: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
    keep: 'none',
  },
  // OpenAI / Anthropic style keys: sk-..., sk-proj-..., sk-ant-api03-...
  { re: /\bsk-[A-Za-z0-9_-]{16,}/g, keep: 'none' },
  // GitHub tokens: classic (ghp_, gho_, ghu_, ghs_, ghr_) and fine-grained
  { re: /\bgh[pousr]_[A-Za-z0-9]{20,}/g, keep: 'none' },
  { re: /\bgithub_pat_[A-Za-z0-9_]{20,}/g, keep: 'none' },
  // AWS access key ids (long-term and temporary)
  { re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, keep: 'none' },
  // Slack tokens
  { re: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, keep: 'none' },
  // Google API keys
  { re: /\bAIza[0-9A-Za-z_-]{30,}/g, keep: 'none' },
  // Authorization: <scheme> <credentials> (any scheme, header or key=value form). The value may
  // not be a bare scheme word, so an already masked `Bearer [REDACTED]` stays as it is.
  {
    re: /\b(authorization\s*[=:]\s*(?:(?:Bearer|Basic|Token|Digest|Bot)\s+)?)(?!(?:Bearer|Basic|Token|Digest|Bot)\s)[^\s,;&"'[]+/gi,
    keep: 'prefix',
  },
  // Bearer / Basic credentials elsewhere
  // (the credential must hold a digit or punctuation, so prose like "bearer authentication" stays)
  {
    re: /\b((?:[Bb]earer|Basic)\s+)(?=[A-Za-z._~+/=-]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{8,}/g,
    keep: 'prefix',
  },
  // JSON members with a secret-looking name: "password": "..."
  {
    re: /("[A-Za-z0-9_.-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|authorization|credentials?)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi,
    keep: 'prefix-quoted',
  },
  // key=value / key: value with a secret-looking key, also inside longer names (DB_PASSWORD=, GITHUB_TOKEN:)
  {
    re: /\b([A-Za-z0-9_]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|secret[_-]?key|private[_-]?key)\s*[=:]\s*)(?:"[^"]*"|'[^']*'|[^\s,;&"']+)/gi,
    keep: 'prefix',
  },
  // credentials in URLs: scheme://user:password@host
  { re: /(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:)[^\s/@]+(?=@)/gi, keep: 'prefix' },
];

/** Object keys whose values are secrets whatever they look like (matched at the end of the key). */
const SECRET_KEY =
  /(?:password|passwd|secret|token|apikey|api[_-]key|accesskey|access[_-]key|privatekey|private[_-]key|authorization|credentials?|cookie)$/i;

/** Masks what looks like a credential in a text (no truncation). Idempotent. */
function maskSecrets(text: string): string {
  let out = text;
  for (const { re, keep } of SECRET_PATTERNS) {
    out = out.replace(re, (_match: string, prefix: unknown) => {
      if (keep === 'none' || typeof prefix !== 'string') return REDACTED;
      return keep === 'prefix-quoted' ? `${prefix}"${REDACTED}"` : `${prefix}${REDACTED}`;
    });
  }
  return out;
}

function truncate(text: string, maxChars: number): string {
  return text.length > maxChars
    ? `${text.slice(0, maxChars)}…[truncated ${text.length - maxChars} chars]`
    : text;
}

/**
 * Masks what looks like a credential (API keys and tokens such as `sk-…`, `ghp_…`, `AKIA…`,
 * `xox…`, bearer tokens, `password=…`, PEM private keys) with `[REDACTED]`, then truncates to
 * `maxChars`.
 *
 * @example redact('curl -H "Authorization: Bearer abc.def.ghi123"') // 'curl -H "Authorization: Bearer [REDACTED]"'
 */
export function redact(text: string, maxChars: number = MAX_CAPTURED_CHARS): string {
  return truncate(maskSecrets(text), maxChars);
}

/**
 * A value made safe to show: values under secret-looking keys (`password`, `api_key`, `token`,
 * `authorization`, ...) replaced, secret-looking strings masked. Throws on circular structures
 * (callers report it as a telemetry failure).
 */
function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskSecrets(value);
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  if (Buffer.isBuffer(value)) return maskSecrets(value.toString('utf8'));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>))
    out[k] =
      SECRET_KEY.test(k) && v !== null && v !== undefined ? REDACTED : redactValue(v, depth + 1);
  return out;
}

/**
 * Captured content for a span attribute: strings as they are, other values as canonical JSON;
 * secrets masked (by key and by pattern), truncated to `maxChars`.
 *
 * @example redactContent({ api_key: 'abc', path: 'a.ts' }) // '{"api_key":"[REDACTED]","path":"a.ts"}'
 */
export function redactContent(value: unknown, maxChars: number = MAX_CAPTURED_CHARS): string {
  if (value === undefined) return '';
  const safe = redactValue(value);
  const text = typeof safe === 'string' ? safe : canonicalJson(safe);
  // A second pass catches secrets that only appear once the value is serialized.
  return truncate(maskSecrets(text), maxChars);
}
