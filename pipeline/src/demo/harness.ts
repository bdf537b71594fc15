/**
 * An example agent harness instrumented with @harness-meter/instrumentation. It plays the demo
 * sessions (scenario.ts) with simulated LLM responses and simulated tools: no real LLM, no network
 * beyond the OTLP endpoint.
 */
import { startTelemetry, type HarnessTracer } from '@harness-meter/instrumentation';
import { DEMO_SESSIONS, type DemoSession } from './scenario.js';

export interface DemoOptions {
  /** OTLP/HTTP traces endpoint of a running harness-meter. */
  endpoint: string;
  sessions?: readonly DemoSession[];
  /** Exporter headers (Authorization: Bearer <ingest key> when the server requires keys). */
  headers?: Record<string, string>;
}

export interface DemoSummary {
  sessions: number;
  llmCalls: number;
  toolCalls: number;
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function playSession(hm: HarnessTracer, s: DemoSession, counts: DemoSummary): Promise<void> {
  await hm.withSession(
    {
      sessionId: s.sessionId,
      agentName: 'demo-coder',
      developer: s.developer,
      email: s.email,
      team: s.team,
      repositoryUrl: s.repository,
      branch: s.branch,
      pr: s.pr,
      intent: s.intent,
    },
    async () => {
      let turn = 0;
      for (const step of s.steps) {
        if (step.kind === 'llm') {
          turn++;
          const response =
            s.provider === 'anthropic'
              ? {
                  id: `msg_${s.sessionId}_${turn}`,
                  model: `${s.model}-20250929`,
                  stop_reason: 'tool_use',
                  usage: step.usage,
                }
              : {
                  id: `chatcmpl-${s.sessionId}-${turn}`,
                  model: s.model,
                  choices: [{ finish_reason: 'tool_calls' }],
                  usage: step.usage,
                };
          await hm.llmCall({ provider: s.provider, model: s.model }, async () => {
            await pause(8);
            return response;
          });
          counts.llmCalls++;
        } else {
          const failed = step.error === true;
          await hm.toolCall(
            {
              name: step.name,
              callId: `call_${s.sessionId}_${counts.toolCalls}`,
              type: 'function',
              args: step.args,
            },
            async () => {
              await pause(3);
              return step.result;
            },
            { isError: () => failed },
          );
          counts.toolCalls++;
        }
      }
    },
  );
  counts.sessions++;
}

/** Plays the demo sessions against `endpoint` and flushes before returning. */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const counts: DemoSummary = { sessions: 0, llmCalls: 0, toolCalls: 0 };
  const hm = startTelemetry({
    serviceName: 'harness-meter-demo',
    endpoint: options.endpoint,
    ...(options.headers ? { headers: options.headers } : {}),
  });
  for (const s of options.sessions ?? DEMO_SESSIONS) await playSession(hm, s, counts);
  await hm.shutdown();
  return counts;
}
