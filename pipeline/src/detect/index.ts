export { findRedundancy, orderCalls, WASTE_KINDS } from '@harness-meter/instrumentation/rules';
export type {
  WasteKind,
  CallClass,
  SessionCall,
  RawFinding,
} from '@harness-meter/instrumentation/rules';
export { priceFindings } from './cost.js';
export { evaluate } from './evaluate.js';
export type { KindScore } from './evaluate.js';
export type { CacheUse, Finding, UnitPrices } from './cost.js';
export {
  scanSession,
  scanStaleSessions,
  startDetectStage,
  mcpServerOf,
  toSessionCall,
  DETECT_DEFAULTS,
} from './runner.js';
export type { DetectStage } from './runner.js';
export { startBackgroundPrelink, PRELINK_DEFAULTS } from './prelink.js';
export type { BackgroundPrelink } from './prelink.js';
