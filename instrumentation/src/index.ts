export {
  startTelemetry,
  instrument,
  harnessMeterSpanProcessors,
  TELEMETRY_DEFAULTS,
} from './start.js';
export type { Telemetry, TelemetryOptions, SpanProcessorOptions } from './start.js';
export { createHarnessTracer, INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION } from './tracer.js';
export type {
  HarnessTracer,
  HarnessTracerOptions,
  LlmRequest,
  LlmSpan,
  LlmCallOptions,
  RedundancyWarning,
  ToolRequest,
  ToolCallOptions,
} from './tracer.js';
export { SessionSpanProcessor, repositoryName, repositoryUrl } from './session.js';
export type { Session, SessionContext, SessionUpdate } from './session.js';
export {
  normalizeUsage,
  fromAnthropicUsage,
  fromOpenAIUsage,
  fromGeminiUsage,
  usageAttributes,
} from './usage.js';
export type { Usage } from './usage.js';
export {
  classifyTool,
  canonicalJson,
  normalizeArgs,
  normalizeTarget,
  inferTarget,
  sha256Hex,
  estimateTokens,
  readRange,
  isTransientFailure,
} from './hashing.js';
export type { ToolClass } from './hashing.js';
export {
  redact,
  redactContent,
  maskSecrets,
  wellFormed,
  cutAt,
  REDACTED,
  MAX_CAPTURED_CHARS,
} from './redact.js';
export { SECRET_RULES_SOURCE, SECRET_RULE_COUNT } from './secret-scan.js';
export { describeToolCall, parsePatch, resolvePath, DEFAULT_READ_LIMIT } from './tool-schemas.js';
export type { CallShape, DescribeOptions } from './tool-schemas.js';
export { analyzeShell, tokenizeShell, SHELL_COMMANDS } from './shell.js';
export type {
  ShellAnalysis,
  ShellCommand,
  ShellEffect,
  ShellParser,
  ShellRule,
  ShellToken,
} from './shell.js';
