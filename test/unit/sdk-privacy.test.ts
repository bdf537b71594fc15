import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import {
  createHarnessTracer,
  MAX_CAPTURED_CHARS,
  redact,
  redactContent,
  SessionSpanProcessor,
} from '@harness-meter/instrumentation';

let exporter: InMemorySpanExporter;
let provider: BasicTracerProvider;

beforeEach(() => {
  exporter = new InMemorySpanExporter();
  provider = new BasicTracerProvider({
    spanProcessors: [new SessionSpanProcessor(), new SimpleSpanProcessor(exporter)],
  });
});
afterEach(async () => {
  await provider.shutdown();
});
const only = (): ReadableSpan => {
  const s = exporter.getFinishedSpans();
  expect(s).toHaveLength(1);
  return s[0]!;
};

const ARGS = {
  command: 'curl -H "Authorization: Bearer abcdefghijklmnop123" https://internal.acme.dev/plan',
  env: 'OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz',
  api_key: 'plainvalue123',
  headers: { authorization: 'whatever', 'x-trace': 'keep-me' },
};
const RESULT = 'password=hunter22 token: ghp_abcdefghijklmnopqrstuvwxyz0123 top-secret-plan';

describe('content capture', () => {
  it('by default, no raw argument or result content reaches any attribute', () => {
    const hm = createHarnessTracer({ tracerProvider: provider });
    hm.toolCall({ name: 'Bash', args: ARGS }, () => RESULT);
    const attrs = only().attributes;
    expect(attrs['gen_ai.tool.call.arguments']).toBeUndefined();
    expect(attrs['gen_ai.tool.call.result']).toBeUndefined();
    const all = JSON.stringify(attrs);
    for (const raw of ['hunter22', 'internal.acme.dev', 'top-secret-plan', 'keep-me', 'curl'])
      expect(all).not.toContain(raw);
    expect(attrs['harness_meter.tool.args_hash']).toMatch(/^[0-9a-f]{64}$/);
    expect(attrs['harness_meter.tool.target_hash']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('with captureContent, arguments and result are on the span, secrets redacted', () => {
    const hm = createHarnessTracer({ tracerProvider: provider, captureContent: true });
    hm.toolCall({ name: 'Bash', args: ARGS }, () => RESULT);
    const attrs = only().attributes;
    const args = JSON.parse(String(attrs['gen_ai.tool.call.arguments'])) as typeof ARGS;
    expect(args).toEqual({
      command: 'curl -H "Authorization: Bearer [REDACTED]" https://internal.acme.dev/plan',
      env: 'OPENAI_API_KEY=[REDACTED]',
      api_key: '[REDACTED]',
      headers: { authorization: '[REDACTED]', 'x-trace': 'keep-me' },
    });
    expect(attrs['gen_ai.tool.call.result']).toBe(
      'password=[REDACTED] token: [REDACTED] top-secret-plan',
    );
  });

  it('captured content is bounded', () => {
    const hm = createHarnessTracer({ tracerProvider: provider, captureContent: true });
    hm.toolCall({ name: 'Read', args: { path: 'big' } }, () => 'x'.repeat(MAX_CAPTURED_CHARS * 3));
    const result = String(only().attributes['gen_ai.tool.call.result']);
    expect(result.length).toBeLessThan(MAX_CAPTURED_CHARS + 40);
    expect(result).toMatch(/…\[truncated 16384 chars\]$/);
    expect(only().attributes['harness_meter.tool.result_bytes']).toBe(MAX_CAPTURED_CHARS * 3);
  });

  it('error messages recorded on spans are redacted too', () => {
    const hm = createHarnessTracer({ tracerProvider: provider });
    const err = new Error('request failed: Authorization: Bearer eyJhbGciOi.payload.sig');
    expect(() =>
      hm.toolCall({ name: 'WebFetch' }, () => {
        throw err;
      }),
    ).toThrow(err);
    expect(err.message).toContain('eyJhbGciOi'); // the harness's error is untouched
    const s = only();
    expect(s.status.message).toBe('request failed: Authorization: Bearer [REDACTED]');
    expect(JSON.stringify(s.events)).not.toContain('eyJhbGciOi');
  });
});

describe('redact', () => {
  it.each([
    ['sk-ant-api03-abcdefghijklmnopqrstuvwxyz', '[REDACTED]'],
    ['key sk-proj-ABCDEFGHIJKLMNOP1234 end', 'key [REDACTED] end'],
    ['ghp_abcdefghijklmnopqrstuvwxyz0123', '[REDACTED]'],
    ['github_pat_11ABCDEFG0123456789_abcdefghijkl', '[REDACTED]'],
    ['aws AKIAIOSFODNN7EXAMPLE', 'aws [REDACTED]'],
    ['xoxb-1234567890-abcdefghij', '[REDACTED]'],
    ['Authorization: Bearer abc.def.ghi-123', 'Authorization: Bearer [REDACTED]'],
    ['Authorization: Basic dXNlcjpwYXNz', 'Authorization: Basic [REDACTED]'],
    ['password=hunter2&user=ana', 'password=[REDACTED]&user=ana'],
    ["DB_PASSWORD: 'p@ss word'", 'DB_PASSWORD: [REDACTED]'],
    ['{"client_secret":"abc\\"def","n":1}', '{"client_secret":"[REDACTED]","n":1}'],
    [
      'git clone https://ana:s3cr3t@github.com/acme/api',
      'git clone https://ana:[REDACTED]@github.com/acme/api',
    ],
    [
      'before\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----\nafter',
      'before\n[REDACTED]\nafter',
    ],
  ])('masks %j', (input, expected) => {
    expect(redact(input)).toBe(expected);
    expect(redact(expected)).toBe(expected); // idempotent: content is masked twice on its way
  });

  it('leaves ordinary text alone', () => {
    const text =
      'max_tokens: 1024; input_tokens=5; the bearer authentication doc; basic usage; sk-short; https://github.com/acme/api';
    expect(redact(text)).toBe(text);
  });

  it('redactContent masks values under secret-looking keys at any depth', () => {
    expect(
      redactContent({
        a: { b: [{ accessToken: 'x' }, { password: 'y', note: 'z' }] },
        pwd: '/home',
      }),
    ).toBe(
      '{"a":{"b":[{"accessToken":"[REDACTED]"},{"note":"z","password":"[REDACTED]"}]},"pwd":"/home"}',
    );
  });
});
