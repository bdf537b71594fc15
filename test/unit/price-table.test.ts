import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { JsonNumberText, parseJsonKeepingNumbers } from '../../pipeline/src/price/source-json.js';
import {
  DEFAULT_SOURCE_FILE,
  generatePriceTable,
  renderPriceTable,
  runGenerator,
} from '../../pipeline/src/price/generate.js';
import {
  createPriceBook,
  loadBundledPriceTable,
  loadPriceTable,
  parsePriceTable,
  PriceTableError,
  type PriceTable,
} from '../../pipeline/src/price/index.js';

const TABLE_FILE = fileURLToPath(new URL('../../pipeline/data/prices.json', import.meta.url));
const SOURCE_FILE = fileURLToPath(
  new URL('../../../shared/data/genai-prices-v2-data.json', import.meta.url),
);

const table = loadBundledPriceTable();

describe('loading and checking a price table', () => {
  const copy = (): PriceTable => JSON.parse(JSON.stringify(table)) as PriceTable;

  it('loads the bundled table', () => {
    expect(table.version).toBe(1);
    expect(table.source.commit).toBe('47df840a5ab10bbcffb8e5ac01b9899032245d1b');
    expect(table.providers.map((p) => p.id)).toEqual(
      expect.arrayContaining([
        'anthropic',
        'openai',
        'google',
        'aws',
        'azure',
        'openrouter',
        'mistral',
        'deepseek',
        'x-ai',
        'groq',
      ]),
    );
  });

  it('rejects a malformed table with a typed error naming the field', () => {
    const t = copy() as unknown as {
      providers: { models: { periods: { prices: Record<string, unknown> }[] }[] }[];
    };
    t.providers[0]!.models[0]!.periods[0]!.prices.input = 3.75;
    const err = (() => {
      try {
        parsePriceTable(t, 'test table');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(PriceTableError);
    expect(err).toMatchObject({ code: 'PRICE_TABLE_INVALID', retriable: false });
    expect((err as Error).message).toContain('providers[0].models[0].periods[0].prices.input');
    expect(() => createPriceBook(t as unknown as PriceTable)).toThrow(PriceTableError);
  });

  it('rejects periods out of order, unknown price fields, bad regexes and dangling fallbacks', () => {
    const outOfOrder = copy();
    outOfOrder.providers
      .find((p) => p.id === 'openai')!
      .models.find((m) => m.id === 'o3')!
      .periods.reverse();
    expect(() => parsePriceTable(outOfOrder)).toThrow(/effectiveFrom/);
    const unknownField = copy() as unknown as {
      providers: { models: { periods: { prices: Record<string, unknown> }[] }[] }[];
    };
    unknownField.providers[0]!.models[0]!.periods[0]!.prices.input_audio = '1';
    expect(() => parsePriceTable(unknownField)).toThrow(/only input, output/);
    const badRegex = copy();
    badRegex.providers[0]!.models[0]!.match = { regex: '(' };
    expect(() => parsePriceTable(badRegex)).toThrow(/regular expression/);
    const dangling = copy();
    dangling.providers[0]!.fallbackProviders = ['nobody'];
    expect(() => parsePriceTable(dangling)).toThrow(/fallbackProviders/);
  });

  it('reports a missing or non-JSON file as PriceTableError with the cause', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-prices-'));
    try {
      expect(() => loadPriceTable(join(dir, 'missing.json'))).toThrow(PriceTableError);
      writeFileSync(join(dir, 'broken.json'), '{');
      expect(() => loadPriceTable(join(dir, 'broken.json'))).toThrow(/not JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the price table generator', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hm-gen-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const sourceText = readFileSync(SOURCE_FILE, 'utf8');
  const committed = readFileSync(TABLE_FILE, 'utf8');

  it('is deterministic: two runs write identical bytes', () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const a = join(dir, 'a.json');
      const b = join(dir, 'b.json');
      expect(runGenerator([SOURCE_FILE, a, '--date=2026-01-02'])).toBe(0);
      expect(runGenerator([SOURCE_FILE, b, '--date=2026-01-02'])).toBe(0);
      expect(readFileSync(a)).toEqual(readFileSync(b));
      // Regenerating over an existing file without --date keeps its date when nothing else changed.
      expect(runGenerator([SOURCE_FILE, a])).toBe(0);
      expect(readFileSync(a)).toEqual(readFileSync(b));
    } finally {
      write.mockRestore();
    }
  });

  it('the committed pipeline/data/prices.json equals a fresh generation', () => {
    const generatedOn = (JSON.parse(committed) as PriceTable).generatedOn;
    expect(
      renderPriceTable(
        generatePriceTable(sourceText, { sourceFile: DEFAULT_SOURCE_FILE, generatedOn }),
      ),
    ).toBe(committed);
  });

  it('writes valid JSON that loads back to the same table, well under 1 MiB', () => {
    expect(Buffer.byteLength(committed)).toBeLessThan(512 * 1024);
    expect(parsePriceTable(JSON.parse(committed))).toEqual(table);
    const models = table.providers.reduce((n, p) => n + p.models.length, 0);
    expect(table.providers.length).toBe(36);
    expect(models).toBe(1466);
  });

  it('keeps the decimal text of the source and notes what it left out', () => {
    expect(committed).toContain('"input":"0.18000000000000002"');
    expect(
      table.notes.some(
        (n) =>
          n.startsWith('time-of-day windows are not modelled') &&
          n.includes('deepseek/deepseek-chat'),
      ),
    ).toBe(true);
    // Fees are kept (USD per thousand), not dropped: Sonar's per-request fee, Claude's web searches.
    expect(
      table.notes.some((n) => n.includes('requests_kcount') || n.includes('web_searches')),
    ).toBe(false);
    expect(committed).toContain('"output":"1","request":"12"');
  });

  it('reads the source keeping every number literal as text', () => {
    const v = parseJsonKeepingNumbers(
      '{"a":[0.075, 1e-7, -2, 3.0],"__proto__":{"b":"x\\u00e9"}, "c":true}',
    ) as Record<string, unknown>;
    expect(v.a).toEqual(['0.075', '1e-7', '-2', '3.0'].map((t) => new JsonNumberText(t)));
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['a', '__proto__', 'c']);
    for (const bad of ['{"a":1,}', '[1 2]', '{"a":01}', '"\n"', '[1]x', '{"a":"\u0001"}', '']) {
      expect(() => parseJsonKeepingNumbers(bad), bad).toThrow(
        expect.objectContaining({ code: 'PRICE_SOURCE_INVALID' }) as Error,
      );
    }
  });

  it('refuses a source file that is not the pinned one unless told its upstream commit', () => {
    const changed = sourceText.replace('"input_mtok":3,', '"input_mtok":3.5,');
    expect(changed).not.toBe(sourceText);
    expect(() =>
      generatePriceTable(changed, { sourceFile: 'x.json', generatedOn: '2026-01-02' }),
    ).toThrow(expect.objectContaining({ code: 'PRICE_SOURCE_INVALID' }) as Error);
    const t = generatePriceTable(changed, {
      sourceFile: 'x.json',
      generatedOn: '2026-01-02',
      commit: 'a'.repeat(40),
    });
    expect(t.source.commit).toBe('a'.repeat(40));
  });
});
