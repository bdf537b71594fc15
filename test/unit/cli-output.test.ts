import { describe, expect, it } from 'vitest';
import { escapeControl, formatRows, formatTable } from '../../pipeline/src/report/format.js';
import { csvCell, isoUtc, machineRow, toCsv } from '../../pipeline/src/report/machine.js';

const prRow = (over: Record<string, unknown>): Record<string, unknown> => ({
  repo: 'https://github.com/acme/payments-api',
  pr: 57,
  sessions: 2,
  llm_calls: 4,
  tool_calls: 9,
  input_tokens: 120_000,
  output_tokens: 8_000,
  cache_read_tokens: 60_000,
  cache_write_tokens: 10_000,
  reasoning_tokens: 0,
  cost_nanos: '1234567890',
  cost_usd: 1.23456789,
  unpriced_calls: 0,
  wasted_tokens: 3_000,
  wasted_cost_nanos: '12000000',
  wasted_cost_usd: 0.012,
  first_seen: '2026-12-01 13:00:00.000000000',
  last_seen: '2026-12-01 14:00:00.000000000',
  ...over,
});

describe('output safety (issue 12)', () => {
  it('escapes control, escape and bidi characters from span data in tables', () => {
    const evil = 'x\x1b]0;pwned\x07\x1b[2J\r\u202egnp.exe\u0085';
    const table = formatTable('cost', [
      { key: evil, cost_nanos: '1000', unpriced_calls: 0, llm_calls: 1 },
    ]);
    expect(escapeControl(evil)).toBe('x\\x1b]0;pwned\\x07\\x1b[2J\\x0d\\u202egnp.exe\\x85');
    expect(table).toContain('x\\x1b]0;pwned\\x07');
    // Nothing below 0x20 but newlines, nothing in C1, no bidi override reaches the terminal.
    // eslint-disable-next-line no-control-regex
    expect(table).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
  });

  it('guards CSV cells a spreadsheet would run as formulas, not numbers', () => {
    for (const lead of ['=HYPERLINK("http://x")', '+1+1', '-2+3', '@SUM(A1)', '\tx', '\rx'])
      expect(csvCell(lead).replace(/^"/, '')).toMatch(/^'/);
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell('-120000000')).toBe('-120000000');
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,"b"')).toBe('"a,""b"""');
    const csv = toCsv([{ key: '=cmd|" /C calc"!A0', cost_nanos: '-5' }]);
    expect(csv.split('\n')[1]).toBe(`"'=cmd|"" /C calc""!A0",-5`);
  });
});

describe('machine output (issue 14)', () => {
  it('never prints unpriced money as 0, and says when some calls are unpriced', () => {
    expect(machineRow(prRow({ unpriced_calls: 4, cost_nanos: '0', cost_usd: 0 }))).toMatchObject({
      cost_nanos: null,
      cost_usd: null,
      cost_complete: false,
      unpriced_calls: 4,
    });
    expect(machineRow(prRow({ unpriced_calls: 1 }))).toMatchObject({
      cost_nanos: '1234567890',
      cost_complete: false,
    });
    expect(machineRow(prRow({}))).toMatchObject({ cost_complete: true });
  });

  it('prints timestamps as ISO-8601 UTC', () => {
    expect(isoUtc('2026-12-01 13:33:26.028000000')).toBe('2026-12-01T13:33:26.028Z');
    expect(isoUtc('2026-12-01 13:33:26')).toBe('2026-12-01T13:33:26.000Z');
    expect(isoUtc('not a time')).toBe('not a time');
    const json = JSON.parse(
      formatRows('cost-per-pr', [prRow({})], 'json', {
        window: {
          since: new Date('2026-11-01T00:00:00Z'),
          until: new Date('2026-12-01T00:00:00Z'),
        },
      }),
    ) as { report: string; since: string; rows: Record<string, unknown>[] };
    expect(json.report).toBe('cost-per-pr');
    expect(json.since).toBe('2026-11-01T00:00:00.000Z');
    expect(json.rows[0]?.first_seen).toBe('2026-12-01T13:00:00.000Z');
    expect(formatRows('cost-per-pr', [prRow({ unpriced_calls: 4 })], 'csv')).toMatch(
      /,2026-12-01T13:00:00\.000Z,2026-12-01T14:00:00\.000Z,false\n$/,
    );
  });
});

describe('tables (issue 14)', () => {
  const rows = [
    prRow({}),
    prRow({ pr: null, cost_nanos: '98765432100', unpriced_calls: 1 }),
    prRow({ pr: 3, unpriced_calls: 4, cost_nanos: '0' }),
  ];

  it('fit the width, say what they hid, and show everything with --wide', () => {
    const narrow = formatTable('cost-per-pr', rows, { width: 80 });
    for (const line of narrow.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect(narrow.replace(/\n/g, ' ')).toMatch(
      /column\(s\) hidden to fit 80 columns: .*tool_calls.*--wide/,
    );
    expect(narrow).toContain('acme/payments-api');
    const wide = formatTable('cost-per-pr', rows, { width: 80, wide: true });
    expect(wide).toContain('tool calls');
    expect(wide).toContain('https://github.com/acme/payments-api');
    expect(wide).not.toContain('hidden');
  });

  it('right-aligns money at one precision, marks unpriced, and totals', () => {
    const t = formatTable('cost-per-pr', rows, {});
    const lines = t.split('\n');
    const header = lines.find((l) => l.startsWith('repo')) ?? '';
    const end = header.indexOf('cost') + 'cost'.length;
    const money = lines.filter(
      (l) => /\$|unpriced {2}/.test(l) && !l.includes('LLM call') && !l.startsWith('repo'),
    );
    expect(money.length).toBeGreaterThanOrEqual(4);
    for (const l of money) expect(l.slice(0, end)).toMatch(/(\$\d[\d,]*\.\d{4}|unpriced)$/);
    expect(t).toContain('≥$98.7654');
    expect(t).toMatch(/^total\s+≥\$100\.0000\s+12\s+360,000/m);
    expect(t).toContain('5 LLM call(s) unpriced');
  });

  it('colours only when asked, and shows exact nano-USD fields as dollars, right-aligned', () => {
    expect(formatTable('cost', [prRow({ key: 'ana' })], { color: true })).toContain('\x1b[1m');
    expect(formatTable('cost', [prRow({ key: 'ana' })], {})).not.toContain('\x1b');
    const linkage = formatTable('linkage', [
      { rule: 'explicit', spans: 10, cost_nanos: '1500000000', cost_usd: 1.5 },
      { rule: 'unattributed', spans: 2, cost_nanos: '20000000', cost_usd: 0.02 },
    ]);
    expect(linkage).toMatch(/^explicit\s+10\s+\$1\.5000$/m);
    expect(linkage).toMatch(/^unattributed\s+2\s+\$0\.0200$/m);
    expect(linkage).not.toContain('1500000000');
    // Non-cost reports get no dollar footer.
    const ttm = formatTable('time-to-merge', [{ repo: 'a', pr: 1, hours: 5 }]);
    expect(ttm).not.toMatch(/total: \$/);
  });
});

describe('cost --breakdown (issue 14)', () => {
  const usage = (cost: string, calls: number, unpriced = 0): Record<string, unknown> => ({
    sessions: 1,
    llm_calls: calls,
    tool_calls: 0,
    input_tokens: calls * 100,
    output_tokens: calls * 10,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    reasoning_tokens: 0,
    cost_nanos: cost,
    cost_usd: Number(cost) / 1e9,
    unpriced_calls: unpriced,
  });
  const rows = [
    {
      by: 'day',
      key: '2026-11-20',
      ...usage('3000000000', 3),
      models: [
        { model: 'claude-sonnet-4-5', ...usage('2000000000', 2) },
        { model: 'gpt-5', ...usage('1000000000', 1) },
      ],
    },
    {
      by: 'day',
      key: '2026-11-21',
      ...usage('500000000', 3, 1),
      models: [
        { model: 'claude-sonnet-4-5', ...usage('500000000', 2) },
        { model: 'mystery-model', ...usage('0', 1, 1) },
      ],
    },
  ];

  it('puts each row’s models indented under it, and totals only the parent rows', () => {
    const lines = formatTable('cost', rows).split('\n');
    const at = (s: string): number => lines.findIndex((l) => l.startsWith(s));
    const day1 = at('2026-11-20');
    const day2 = at('2026-11-21');
    expect(day1).toBeGreaterThan(0);
    expect(lines[day1 + 1]).toMatch(/^ {2}└ claude-sonnet-4-5\s+\$2\.0000\s+2\b/);
    expect(lines[day1 + 2]).toMatch(/^ {2}└ gpt-5\s+\$1\.0000\s+1\b/);
    expect(day2).toBe(day1 + 3);
    expect(lines[day2]).toMatch(/≥\$0\.5000/);
    expect(lines[day2 + 2]).toMatch(/^ {2}└ mystery-model\s+unpriced/);
    // The totals row sums the days, not the days plus their models: $3.5, 6 calls.
    expect(lines.find((l) => l.startsWith('total'))).toMatch(/^total\s+≥\$3\.5000\s+6\b/);
  });

  it('keeps models as an array in JSON (money rules applied inside) and flattens CSV', () => {
    const body = JSON.parse(formatRows('cost', rows, 'json')) as {
      rows: { models: { model: string; cost_nanos: string | null; cost_complete: boolean }[] }[];
    };
    expect(body.rows[1]?.models.map((m) => [m.model, m.cost_nanos, m.cost_complete])).toEqual([
      ['claude-sonnet-4-5', '500000000', true],
      ['mystery-model', null, false],
    ]);
    const csv = formatRows('cost', rows, 'csv').trim().split('\n');
    const header = csv[0]?.split(',') ?? [];
    expect(header.slice(0, 3)).toEqual(['level', 'by', 'key']);
    expect(header).toContain('model');
    expect(header).not.toContain('models');
    const level = (l: string): string => l.split(',')[0] ?? '';
    expect(csv.slice(1).map(level)).toEqual(['key', 'model', 'model', 'key', 'model', 'model']);
    const modelCol = header.indexOf('model');
    expect(csv[2]?.split(',')[modelCol]).toBe('claude-sonnet-4-5');
    expect(csv[1]?.split(',')[modelCol]).toBe('');
  });
});
