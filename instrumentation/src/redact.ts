import { canonicalJson } from './hashing.js';
import { maskSecretSpans } from './secret-scan.js';

/** Bound on captured content per attribute (characters), when content capture is on. */
export const MAX_CAPTURED_CHARS = 8192;

/** What replaces a secret. */
export const REDACTED = '[REDACTED]';

/** Object keys whose values are secrets whatever they look like (matched at the end of the key). */
const SECRET_KEY =
  /(?:password|passwd|secret|token|apikey|api[_-]key|accesskey|access[_-]key|privatekey|private[_-]key|authorization|credentials?|cookie)$/i;

/** Masks what looks like a credential in a text (no truncation). Idempotent. */
export function maskSecrets(text: string): string {
  return maskSecretSpans(text, REDACTED);
}

/** Lone UTF-16 surrogates (half of an emoji); they are not text and ClickHouse refuses them in JSON. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The text with every lone surrogate replaced by U+FFFD, so it is valid UTF-16 (and UTF-8 once encoded). */
export function wellFormed(text: string): string {
  if (nativeWellFormed !== undefined)
    return nativeWellFormed.call(text) ? text : toWellFormed(text);
  LONE_SURROGATE.lastIndex = 0;
  return LONE_SURROGATE.test(text) ? text.replace(LONE_SURROGATE, '\uFFFD') : text;
}

/** String.prototype.isWellFormed (Node 20+): one native scan instead of a regex with look-behind. */
const nativeWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean })
  .isWellFormed;

function toWellFormed(text: string): string {
  LONE_SURROGATE.lastIndex = 0;
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

/** The first `maxChars` UTF-16 units, one less when the cut would split a surrogate pair. */
export function cutAt(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const code = text.charCodeAt(maxChars - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? maxChars - 1 : maxChars);
}

function truncate(text: string, maxChars: number): string {
  return text.length > maxChars
    ? `${cutAt(text, maxChars)}…[truncated ${text.length - cutAt(text, maxChars).length} chars]`
    : text;
}

/**
 * Masks what looks like a credential with `[REDACTED]`, then truncates to `maxChars` (never inside a
 * surrogate pair). The rules are data: gitleaks' default rule set (secret-rules.json) and
 * harness-meter's own forms (secret-rules-local.json: `password=…`, `-p<password>`, URLs with
 * credentials, Authorization headers, ...). The pipeline applies the same function to what it stores.
 *
 * @example redact('curl -H "Authorization: Bearer abc.def.ghi123"') // 'curl -H "Authorization: Bearer [REDACTED]"'
 */
export function redact(text: string, maxChars: number = MAX_CAPTURED_CHARS): string {
  return truncate(maskSecrets(wellFormed(text)), maxChars);
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
  return truncate(maskSecrets(wellFormed(text)), maxChars);
}
