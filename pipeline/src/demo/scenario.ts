/**
 * The demo's coding sessions: plain data, deterministic, so the reports they produce can be
 * computed by hand. Each step is an LLM turn (with a provider-shaped `usage` object) or a tool call
 * (with arguments and a simulated result).
 */

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation?: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
}

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
}

export type DemoStep =
  | { kind: 'llm'; usage: AnthropicUsage | OpenAIUsage }
  | { kind: 'tool'; name: string; args: Record<string, unknown>; result: string; error?: boolean };

export interface DemoSession {
  sessionId: string;
  developer: string;
  email: string;
  team: string;
  repository: string;
  branch: string;
  pr: number;
  intent: string;
  provider: 'anthropic' | 'openai';
  model: string;
  steps: DemoStep[];
}

const file = (lines: number, seed: string): string =>
  Array.from(
    { length: lines },
    (_, i) => `// ${seed} line ${i + 1}: export const v${i} = compute(${i});`,
  ).join('\n');

const anthropic = (
  fresh: number,
  write5m: number,
  write1h: number,
  read: number,
  out: number,
): DemoStep => ({
  kind: 'llm',
  usage: {
    input_tokens: fresh,
    output_tokens: out,
    cache_creation_input_tokens: write5m + write1h,
    cache_read_input_tokens: read,
    cache_creation: { ephemeral_5m_input_tokens: write5m, ephemeral_1h_input_tokens: write1h },
  },
});

const openai = (prompt: number, cached: number, completion: number, reasoning = 0): DemoStep => ({
  kind: 'llm',
  usage: {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached },
    completion_tokens_details: { reasoning_tokens: reasoning },
  },
});

const tool = (
  name: string,
  args: Record<string, unknown>,
  result: string,
  error = false,
): DemoStep =>
  error ? { kind: 'tool', name, args, result, error } : { kind: 'tool', name, args, result };

const API = 'https://github.com/acme/payments-api';
const WEB = 'https://github.com/acme/web-app';

export const DEMO_SESSIONS: readonly DemoSession[] = [
  {
    sessionId: 'demo-session-ana-1',
    developer: 'ana',
    email: 'ana@acme.dev',
    team: 'payments',
    repository: API,
    branch: 'fix/refund-rounding',
    pr: 101,
    intent: 'fix',
    provider: 'anthropic',
    model: 'claude-sonnet-4-5',
    steps: [
      anthropic(1200, 8000, 0, 0, 350),
      tool(
        'Grep',
        { pattern: 'roundRefund', path: 'src/' },
        'src/refunds.ts:42: export function roundRefund(\nsrc/refunds.test.ts:7',
      ),
      anthropic(300, 900, 0, 8000, 220),
      tool('Read', { file_path: 'src/refunds.ts' }, file(120, 'refunds')),
      anthropic(200, 2400, 0, 8900, 410),
      // Deliberate waste: the same file read again, nothing changed it in between.
      tool('Read', { file_path: 'src/refunds.ts' }, file(120, 'refunds')),
      anthropic(150, 2400, 0, 11300, 380),
      tool(
        'Edit',
        {
          file_path: 'src/refunds.ts',
          old_string: 'Math.round(x)',
          new_string: 'roundHalfEven(x)',
        },
        'ok',
      ),
      anthropic(120, 300, 0, 13700, 150),
      tool('Bash', { command: 'npm test -- refunds' }, 'Tests: 14 passed, 14 total'),
      anthropic(100, 200, 0, 14000, 260),
    ],
  },
  {
    sessionId: 'demo-session-ben-1',
    developer: 'ben',
    email: 'ben@acme.dev',
    team: 'payments',
    repository: API,
    branch: 'feat/idempotency-keys',
    pr: 102,
    intent: 'implement',
    provider: 'anthropic',
    model: 'claude-sonnet-4-5',
    steps: [
      anthropic(2000, 0, 12000, 0, 600),
      tool(
        'Glob',
        { pattern: 'src/**/*.ts' },
        'src/api.ts\nsrc/refunds.ts\nsrc/charges.ts\nsrc/db.ts',
      ),
      anthropic(400, 600, 0, 12000, 300),
      tool('Read', { file_path: 'src/charges.ts', offset: 1, limit: 200 }, file(200, 'charges')),
      anthropic(300, 3600, 0, 12600, 900),
      tool(
        'Write',
        {
          file_path: 'src/idempotency.ts',
          content: 'export const key = () => crypto.randomUUID();',
        },
        'ok',
      ),
      anthropic(250, 400, 0, 16200, 500),
      tool('Bash', { command: 'npm test' }, 'FAIL src/idempotency.test.ts', true),
      anthropic(200, 300, 0, 16600, 420),
      tool(
        'Edit',
        {
          file_path: 'src/idempotency.ts',
          old_string: 'randomUUID()',
          new_string: 'randomUUID().replace(/-/g, "")',
        },
        'ok',
      ),
      anthropic(150, 200, 0, 16900, 200),
      tool('Bash', { command: 'npm test' }, 'Tests: 31 passed, 31 total'),
      anthropic(100, 150, 0, 17100, 300),
    ],
  },
  {
    sessionId: 'demo-session-chen-1',
    developer: 'chen',
    email: 'chen@acme.dev',
    team: 'web',
    repository: WEB,
    branch: 'feat/checkout-form',
    pr: 201,
    intent: 'implement',
    provider: 'openai',
    model: 'gpt-4o',
    steps: [
      openai(6000, 0, 700),
      tool('read_file', { path: 'app/checkout/Form.tsx' }, file(90, 'Form')),
      openai(8200, 5900, 900),
      tool('apply_patch', { path: 'app/checkout/Form.tsx', patch: '@@ -10 +10 @@' }, 'ok'),
      openai(9400, 8100, 650),
      tool('shell', { command: 'npm   run   lint' }, 'no problems'),
      openai(9800, 9300, 300),
    ],
  },
  {
    sessionId: 'demo-session-chen-2',
    developer: 'chen',
    email: 'chen@acme.dev',
    team: 'web',
    repository: WEB,
    branch: 'feat/checkout-form',
    pr: 201,
    intent: 'review',
    provider: 'openai',
    model: 'gpt-4o-mini',
    steps: [
      openai(4000, 0, 500),
      tool('read_file', { path: 'app/checkout/Form.tsx' }, file(95, 'Form')),
      openai(5300, 3900, 400),
    ],
  },
  {
    sessionId: 'demo-session-dana-1',
    developer: 'dana',
    email: 'dana@acme.dev',
    team: 'web',
    repository: WEB,
    branch: 'chore/try-local-model',
    pr: 202,
    intent: 'explore',
    provider: 'openai',
    // A self-hosted model no price table knows: reported as unpriced, never as $0.
    model: 'acme-local-coder-7b',
    steps: [
      openai(3000, 0, 400),
      tool('WebFetch', { url: 'https://example.com/docs/forms' }, 'docs page text'),
      openai(3600, 2900, 350),
    ],
  },
];
