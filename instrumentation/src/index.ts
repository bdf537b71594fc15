export { startTelemetry, TELEMETRY_DEFAULTS } from './start.js';
export type { Telemetry, TelemetryOptions } from './start.js';
export { createHarnessTracer, usageAttributes } from './tracer.js';
export type {
  HarnessTracer,
  HarnessTracerOptions,
  LlmRequest,
  LlmSpan,
  LlmCallOptions,
  ToolRequest,
  ToolCallOptions,
} from './tracer.js';
export { SessionSpanProcessor, repositoryName } from './session.js';
export type { Session, SessionContext, SessionUpdate } from './session.js';
export { normalizeUsage, fromAnthropicUsage, fromOpenAIUsage } from './usage.js';
export type { Usage } from './usage.js';
export {
  classifyTool,
  canonicalJson,
  normalizeArgs,
  inferTarget,
  sha256Hex,
  estimateTokens,
  readRange,
} from './hashing.js';
export type { ToolClass } from './hashing.js';
export { redact, MAX_CAPTURED_CHARS } from './redact.js';
