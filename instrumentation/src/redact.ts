/** Bound on captured content per attribute (characters), when content capture is on. */
export const MAX_CAPTURED_CHARS = 8192;

const SECRET_PATTERNS: RegExp[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  /\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}\b/g,
  /\bgh[pousr]_[A-Za-z0-9]{20,}\b/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}\b/g,
  /\bAKIA[0-9A-Z]{16}\b/g,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g,
  /\bAIza[0-9A-Za-z_-]{30,}\b/g,
  /\b(Bearer)\s+[A-Za-z0-9._~+/=-]{12,}/gi,
  /\b((?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&]+)/gi,
];

/** Masks what looks like a credential, then truncates to a bounded size. */
export function redact(text: string, maxChars: number = MAX_CAPTURED_CHARS): string {
  let out = text;
  for (const re of SECRET_PATTERNS) {
    out = out.replace(re, (...m: unknown[]) => {
      const groups = m.slice(1, -2).filter((g): g is string => typeof g === 'string');
      if (re.source.startsWith('\\b((?:password')) return `${groups[0] ?? ''}[REDACTED]`;
      if (re.source.startsWith('\\b(Bearer)')) return `${groups[0] ?? 'Bearer'} [REDACTED]`;
      return '[REDACTED]';
    });
  }
  return out.length > maxChars
    ? `${out.slice(0, maxChars)}…[truncated ${out.length - maxChars} chars]`
    : out;
}
