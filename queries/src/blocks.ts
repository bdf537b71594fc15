/**
 * `report blocks`: the 5-hour billing blocks Claude subscriptions count usage in, grouped the way
 * ccusage groups them (ryoppippi/ccusage: rust/crates/ccusage/src/blocks.rs,
 * `identify_session_blocks`): calls sorted by time; a block starts at the hour the first call
 * falls in (floored to the hour, UTC); a call more than 5 hours after the block's start, or more
 * than 5 hours after the previous call, starts a new block. A block is active while it has not
 * ended and its last call is less than 5 hours old. ccusage also lists the gaps between blocks;
 * here they are the space between one block's `last_call` and the next `block_start`.
 */
import type { ClickHouseClient } from './client.js';
import { nanosToUsdNumber } from './money.js';
import { num, runReport, windowParams, type RawRow, type ReportWindow } from './reports.js';

/** Length of a billing block. */
export const BLOCK_HOURS = 5;
const BLOCK_MS = BLOCK_HOURS * 3_600_000;

export interface BlockRow {
  block_start: string;
  block_end: string;
  last_call: string;
  active: boolean;
  llm_calls: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost_nanos: string;
  cost_usd: number;
  unpriced_calls: number;
  models: string;
}

/** One LLM call as the grouping needs it (input tokens include cache, as stored). */
export interface BlockCall {
  ms: number;
  model: string;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost_nanos: bigint;
  unpriced: boolean;
}

/** Groups calls (any order) into blocks; pure, so the rule is unit-tested apart from the store. */
export function groupBlocks(calls: readonly BlockCall[], nowMs: number): BlockRow[] {
  const sorted = [...calls].sort((a, b) => a.ms - b.ms);
  const blocks: BlockRow[] = [];
  let start = 0;
  let last = 0;
  let cur: (BlockRow & { nanos: bigint; modelSet: Set<string> }) | undefined;
  const close = (): void => {
    if (!cur) return;
    const { nanos, modelSet, ...row } = cur;
    blocks.push({
      ...row,
      last_call: new Date(last).toISOString(),
      active: nowMs < start + BLOCK_MS && nowMs - last < BLOCK_MS,
      cost_nanos: nanos.toString(),
      cost_usd: nanosToUsdNumber(nanos),
      models: [...modelSet].join(', '),
    });
  };
  for (const c of sorted) {
    if (!cur || c.ms - start > BLOCK_MS || c.ms - last > BLOCK_MS) {
      close();
      start = Math.floor(c.ms / 3_600_000) * 3_600_000;
      cur = {
        block_start: new Date(start).toISOString(),
        block_end: new Date(start + BLOCK_MS).toISOString(),
        last_call: '',
        active: false,
        llm_calls: 0,
        input_tokens: 0,
        output_tokens: 0,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
        cost_nanos: '0',
        cost_usd: 0,
        unpriced_calls: 0,
        models: '',
        nanos: 0n,
        modelSet: new Set(),
      };
    }
    cur.llm_calls++;
    cur.input_tokens += c.input_tokens;
    cur.output_tokens += c.output_tokens;
    cur.cache_read_tokens += c.cache_read_tokens;
    cur.cache_write_tokens += c.cache_write_tokens;
    cur.nanos += c.cost_nanos;
    if (c.unpriced) cur.unpriced_calls++;
    if (c.model) cur.modelSet.add(c.model);
    last = c.ms;
  }
  close();
  return blocks;
}

/** The 5-hour billing blocks of Anthropic usage in the window, oldest first. */
export async function billingBlocks(
  client: ClickHouseClient,
  options: { db: string; nowMs?: number } & ReportWindow,
): Promise<BlockRow[]> {
  const rows = await runReport(
    client,
    'blocks',
    'blocks_calls.sql',
    windowParams(options.db, options),
  );
  return groupBlocks(
    rows.map((r: RawRow) => ({
      ms: num(r.ms),
      model: String(r.model ?? ''),
      input_tokens: num(r.input_tokens),
      output_tokens: num(r.output_tokens),
      cache_read_tokens: num(r.cache_read_tokens),
      cache_write_tokens: num(r.cache_write_tokens),
      cost_nanos: BigInt(r.cost_nanos ?? 0),
      unpriced: num(r.unpriced) === 1,
    })),
    options.nowMs ?? Date.now(),
  );
}
