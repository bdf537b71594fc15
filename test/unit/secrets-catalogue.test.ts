import { describe, expect, it } from 'vitest';
import {
  maskSecrets,
  redact,
  SECRET_RULE_COUNT,
  SECRET_RULES_SOURCE,
} from '@harness-meter/instrumentation';
import { CANARY, SECRETS } from '../fixtures/secrets/catalogue.js';

describe('secret redaction rules (gitleaks data + harness-meter forms)', () => {
  it('record where the rules come from', () => {
    expect(SECRET_RULES_SOURCE.gitleaks).toMatchObject({
      repository: 'https://github.com/gitleaks/gitleaks',
      file: 'config/gitleaks.toml',
    });
    expect(SECRET_RULES_SOURCE.gitleaks.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(SECRET_RULE_COUNT).toBeGreaterThan(200);
  });

  it(`mask each of the ${SECRETS.length} secret formats, alone and inside text, idempotently`, () => {
    expect(SECRETS.length).toBeGreaterThanOrEqual(30);
    const missed: string[] = [];
    for (const s of SECRETS) {
      for (const text of [
        s.text,
        `${CANARY} ${s.text}\n${CANARY}`,
        JSON.stringify({ cmd: s.text }),
      ]) {
        const once = redact(text);
        if (once.includes(s.needle)) missed.push(`${s.id}: ${once.slice(0, 200)}`);
        if (!once.includes('[REDACTED]')) missed.push(`${s.id}: nothing masked`);
        if (maskSecrets(once) !== once) missed.push(`${s.id}: not idempotent`);
      }
      expect(redact(`${CANARY} ${s.text}`)).toContain(CANARY);
    }
    expect(missed).toEqual([]);
  });

  it('leave ordinary engineering text alone', () => {
    const texts = [
      'git commit -m "fix: token counting in the parser" && git push origin main',
      'sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      'commit 5b8efff798038103d269b633813fc60c5b8efff7 by ana',
      'mkdir -p /tmp/build && ssh -p 2222 deploy@host && ls -p',
      'The api key rotation doc explains how secrets are stored in Vault.',
      'npm install --save-dev typescript@5.9.3; max_tokens=1024; input_tokens: 5',
      'https://github.com/acme/api/pull/42#discussion_r123456',
    ];
    for (const t of texts) expect(redact(t), t).toBe(t);
  });
});
