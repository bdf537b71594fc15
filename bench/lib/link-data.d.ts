// Types of bench/lib/link-data.js for the tests that import it (test/integration/bench-bulk-load.test.ts).
import type { ClickHouseClient } from '@harness-meter/queries';

export interface Generation {
  spans: number;
  prs: number;
  start: Date;
  end: Date;
  from?: number;
  chunk?: number;
  onChunk?: () => void;
}

export const PER_SESSION: number;
export const RAW_LINK_SOURCE: string;
export function layout(spans: number, start: Date, end: Date): { sessions: number; gap: number };
export function insertSpans(client: ClickHouseClient, db: string, gen: Generation): Promise<void>;
export function insertPrEvents(
  client: ClickHouseClient,
  db: string,
  gen: Generation,
): Promise<void>;
export function insertFindings(
  client: ClickHouseClient,
  db: string,
  gen: Generation,
  onProgress?: (text: string) => void,
): Promise<void>;
export function insertSpansBulk(
  client: ClickHouseClient,
  db: string,
  gen: Generation,
  options?: {
    sliceRows?: number;
    groupByBytes?: number;
    onProgress?: (text: string) => void;
    onSpansDone?: () => void;
  },
): Promise<{
  views: number;
  spansS: number;
  rollupsS: number;
  slices: number;
  perViewMs: Record<string, number>;
}>;
export function traceIdBounds(
  client: ClickHouseClient,
  db: string,
  sliceRows: number,
): Promise<string[]>;
export function time<T>(
  runs: number,
  fn: () => Promise<T>,
): Promise<{ p50: number; p95: number; rows: T }>;
