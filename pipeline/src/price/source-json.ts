/**
 * A JSON reader that keeps every number as the exact text of its literal, so that a price written
 * `0.075` in the upstream file reaches the table as "0.075" without passing through a float.
 * Used by the generator only (Node 20's JSON.parse cannot give a reviver the source text).
 */
import { PriceTableError } from './errors.js';

/** A JSON number, as written in the source. */
export class JsonNumberText {
  constructor(readonly text: string) {}
}

export type SourceJson =
  null | boolean | string | JsonNumberText | SourceJson[] | { [key: string]: SourceJson };

/** Nesting deeper than this is not price data; the bound keeps recursion safe. */
const MAX_DEPTH = 64;

const WS = /[ \t\n\r]*/y;
// A string token; JSON.parse then decodes it and rejects what JSON forbids (control characters, bad escapes).
const STRING = /"(?:[^"\\]|\\.)*"/y;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERALS: readonly [string, SourceJson][] = [
  ['true', true],
  ['false', false],
  ['null', null],
];

/** Parses JSON text; numbers become JsonNumberText. Throws PriceTableError (PRICE_SOURCE_INVALID) on bad input. */
export function parseJsonKeepingNumbers(text: string, where = 'JSON'): SourceJson {
  let i = 0;
  const fail = (what: string): never => {
    throw new PriceTableError(`${where}: invalid JSON at offset ${i}: ${what}`, {
      code: 'PRICE_SOURCE_INVALID',
    });
  };
  const skip = (): void => {
    WS.lastIndex = i;
    WS.exec(text);
    i = WS.lastIndex;
  };
  const token = (re: RegExp): string | undefined => {
    re.lastIndex = i;
    const m = re.exec(text);
    if (m === null) return undefined;
    i = re.lastIndex;
    return m[0];
  };
  const string = (): string => {
    const raw = token(STRING) ?? fail('expected a string');
    try {
      return JSON.parse(raw) as string;
    } catch {
      return fail('bad string');
    }
  };
  const value = (depth: number): SourceJson => {
    if (depth > MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH}`);
    skip();
    const c = text[i];
    if (c === '{') {
      i++;
      const entries: [string, SourceJson][] = [];
      skip();
      if (text[i] === '}') {
        i++;
        return {};
      }
      for (;;) {
        skip();
        const k = string();
        skip();
        if (text[i++] !== ':') fail('expected ":"');
        entries.push([k, value(depth + 1)]);
        skip();
        const sep = text[i++];
        if (sep === '}') break;
        if (sep !== ',') fail('expected "," or "}"');
      }
      // fromEntries defines own properties, so a "__proto__" key stays data.
      return Object.fromEntries(entries);
    }
    if (c === '[') {
      i++;
      const items: SourceJson[] = [];
      skip();
      if (text[i] === ']') {
        i++;
        return items;
      }
      for (;;) {
        items.push(value(depth + 1));
        skip();
        const sep = text[i++];
        if (sep === ']') break;
        if (sep !== ',') fail('expected "," or "]"');
      }
      return items;
    }
    if (c === '"') return string();
    for (const [word, v] of LITERALS) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    return new JsonNumberText(token(NUMBER) ?? fail('unexpected character'));
  };
  const result = value(0);
  skip();
  if (i !== text.length) fail('trailing characters');
  return result;
}
