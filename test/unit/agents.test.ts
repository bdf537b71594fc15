import { describe, expect, it } from 'vitest';
import { decodeLogsRequest } from '../../pipeline/src/decode/index.js';

const kv = (key: string, v: string | number): { key: string; value: Record<string, string> } => ({
  key,
  value: typeof v === 'number' ? { intValue: String(v) } : { stringValue: v },
});
const T = 1_763_974_800_000;
function logs(
  service: string,
  records: { name: string; ms: number; attrs: Record<string, string | number> }[],
): Uint8Array {
  return Buffer.from(
    JSON.stringify({
      resourceLogs: [
        {
          resource: { attributes: [kv('service.name', service)] },
          scopeLogs: [
            {
              scope: { name: service },
              logRecords: records.map((r) => ({
                timeUnixNano: String(BigInt(r.ms) * 1_000_000n),
                body: { stringValue: r.name },
                attributes: [
                  kv('event.name', r.name),
                  ...Object.entries(r.attrs).map(([k, v]) => kv(k, v)),
                ],
              })),
            },
          ],
        },
      ],
    }),
  );
}

describe('agent events → records (Codex CLI, Gemini CLI)', () => {
  it('Codex: usage from response.completed SSE events (input includes cached), tool results hashed', () => {
    const out = decodeLogsRequest(
      logs('codex_cli_rs', [
        {
          name: 'codex.sse_event',
          ms: T,
          attrs: { 'conversation.id': 'cx-1', model: 'gpt-5', 'event.kind': 'response.created' },
        },
        {
          name: 'codex.sse_event',
          ms: T + 2000,
          attrs: {
            'conversation.id': 'cx-1',
            model: 'gpt-5',
            'event.kind': 'response.completed',
            input_token_count: 9000,
            cached_token_count: 6000,
            output_token_count: 700,
            reasoning_token_count: 400,
            duration_ms: 1900,
          },
        },
        {
          name: 'codex.tool_result',
          ms: T + 3000,
          attrs: {
            'conversation.id': 'cx-1',
            tool_name: 'shell',
            call_id: 'call_1',
            arguments: '{"command":["bash","-lc","npm test"]}',
            output: 'secret output',
            success: 'false',
            duration_ms: 800,
          },
        },
      ]),
      'json',
    );
    expect(out.ignored).toBe(1);
    expect(out.spans).toHaveLength(2);
    expect(out.spans[0]).toMatchObject({
      spanType: 'llm',
      source: 'codex',
      sessionId: 'cx-1',
      provider: 'openai',
      requestModel: 'gpt-5',
      inputTokens: 9000,
      cacheReadTokens: 6000,
      outputTokens: 700,
      reasoningTokens: 400,
    });
    expect(out.spans[0]!.endTimeUnixNano - out.spans[0]!.startTimeUnixNano).toBe(1_900_000_000n);
    expect(out.spans[1]).toMatchObject({
      spanType: 'tool',
      toolName: 'shell',
      toolCallId: 'call_1',
      toolClass: 'exec',
      isError: true,
    });
    expect(out.spans[1]!.argsHash).toMatch(/^[0-9a-f]{64}$/);
    expect(out.spans[1]!.spanAttributes.arguments).toBeUndefined();
    expect(out.spans[1]!.spanAttributes.output).toBeUndefined();
  });

  it('Gemini CLI: thinking tokens are billed as output; tool calls hashed', () => {
    const out = decodeLogsRequest(
      logs('gemini-cli', [
        {
          name: 'gemini_cli.api_response',
          ms: T,
          attrs: {
            'session.id': 'gm-1',
            model: 'gemini-2.5-pro',
            input_token_count: 5000,
            cached_content_token_count: 3000,
            output_token_count: 200,
            thoughts_token_count: 300,
            tool_token_count: 0,
            duration_ms: 2500,
          },
        },
        {
          name: 'gemini_cli.tool_call',
          ms: T + 1000,
          attrs: {
            'session.id': 'gm-1',
            function_name: 'read_file',
            function_args: '{"absolute_path":"/r/a.ts"}',
            success: 'true',
            duration_ms: 5,
          },
        },
        { name: 'gemini_cli.config', ms: T, attrs: { model: 'x' } },
      ]),
      'json',
    );
    expect(out.spans).toHaveLength(2);
    expect(out.spans[0]).toMatchObject({
      spanType: 'llm',
      source: 'gemini-cli',
      provider: 'gcp.gemini',
      inputTokens: 5000,
      cacheReadTokens: 3000,
      outputTokens: 500,
      reasoningTokens: 300,
    });
    expect(out.spans[1]).toMatchObject({
      spanType: 'tool',
      toolName: 'read_file',
      toolClass: 'read',
      isError: false,
    });
    expect(out.spans[1]!.targetHash).toMatch(/^[0-9a-f]{64}$/);
    expect(out.ignored).toBe(1);
  });

  it('counts unknown and malformed events without failing the request', () => {
    const out = decodeLogsRequest(
      logs('claude-code', [
        { name: 'claude_code.api_request', ms: T, attrs: { 'session.id': 's' } },
        { name: 'claude_code.whatever', ms: T, attrs: {} },
      ]),
      'json',
    );
    expect(out).toMatchObject({ spans: [], ignored: 2 });
  });
});
