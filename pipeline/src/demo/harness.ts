/**
 * An example agent harness instrumented with @harness-meter/instrumentation. It plays the demo
 * sessions (scenario.ts) with simulated LLM responses and simulated tools: no real LLM, no network
 * beyond the OTLP endpoint.
 */
import { startTelemetry, type HarnessTracer } from '@harness-meter/instrumentation';
import { PipelineError } from '../errors.js';
import { fixedIdGenerator } from './ids.js';
import { DEMO_SESSIONS, type DemoSession } from './scenario.js';

export interface DemoOptions {
  /** OTLP/HTTP traces endpoint of a running harness-meter. */
  endpoint: string;
  sessions?: readonly DemoSession[];
  /** Exporter headers (Authorization: Bearer <ingest key> when the server requires keys). */
  headers?: Record<string, string>;
  /** Told after each step (LLM or tool call) played: steps done, steps in all. */
  onStep?: (done: number, total: number) => void;
}

export interface DemoSummary {
  sessions: number;
  llmCalls: number;
  toolCalls: number;
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function playSession(
  hm: HarnessTracer,
  s: DemoSession,
  counts: DemoSummary,
  played: () => void,
): Promise<void> {
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
          played();
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
          played();
        }
      }
    },
  );
  counts.sessions++;
}

/** Bound on the demo's check that the endpoint is an OTLP/HTTP traces receiver. */
const PROBE_TIMEOUT_MS = 5_000;

/** What failed, and what to do about it, for an endpoint that does not take the demo's spans. */
function endpointError(endpoint: string, reason: string): PipelineError {
  const hint = /\/v1\/traces\/?$/.test(new URL(endpoint).pathname)
    ? 'Is harness-meter running there (npm start)?'
    : 'An OTLP/HTTP traces endpoint ends in /v1/traces, e.g. http://127.0.0.1:4318/v1/traces.';
  return new PipelineError(
    'SERVER_UNREACHABLE',
    `the demo's spans were not accepted by ${endpoint}: ${reason}. ${hint}`,
  );
}

/**
 * Sends an empty OTLP/JSON export to `endpoint` and checks the answer, so a wrong URL or a
 * server that is not there fails before any session is played, with the server's reason.
 */
export async function probeEndpoint(
  endpoint: string,
  headers: Record<string, string> = {},
): Promise<void> {
  let res: Response;
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: '{"resourceSpans":[]}',
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
  } catch (e) {
    const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : '';
    throw endpointError(
      endpoint,
      `no answer (${cause || (e instanceof Error ? e.message : String(e))})`,
    );
  }
  const body = await res.text();
  if (!res.ok) throw endpointError(endpoint, `HTTP ${res.status} ${body.slice(0, 300)}`);
}

/**
 * Plays the demo sessions against `endpoint` and flushes before returning. Ids are fixed, so a
 * second run sends the same spans and changes nothing. Fails when any export failed.
 */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const counts: DemoSummary = { sessions: 0, llmCalls: 0, toolCalls: 0 };
  await probeEndpoint(options.endpoint, options.headers);
  const failures: string[] = [];
  const hm = startTelemetry({
    serviceName: 'harness-meter-demo',
    endpoint: options.endpoint,
    idGenerator: fixedIdGenerator('harness-meter-demo'),
    ...(options.headers ? { headers: options.headers } : {}),
    onError: (e) => failures.push(e instanceof Error ? e.message : String(e)),
  });
  const sessions = options.sessions ?? DEMO_SESSIONS;
  const total = sessions.reduce((n, s) => n + s.steps.length, 0);
  const played = (): void => options.onStep?.(counts.llmCalls + counts.toolCalls, total);
  for (const s of sessions) await playSession(hm, s, counts, played);
  await hm.shutdown();
  if (failures.length > 0)
    throw endpointError(
      options.endpoint,
      `${failures.length} export(s) failed: ${failures[0] ?? ''}`,
    );
  return counts;
}
