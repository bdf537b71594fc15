/**
 * Secret detection over free text, driven by rule data: gitleaks' default rule set
 * (secret-rules.json, converted by scripts/gitleaks-rules.py, source and commit recorded in the file)
 * plus harness-meter's own forms (secret-rules-local.json). Rules are compiled once; a rule runs
 * only when one of its keywords occurs in the text (gitleaks' own pre-filter) and the text is at
 * least as long as the rule's shortest match (regex-min-length.ts), so an ASCII text without any
 * keyword costs one pass over its characters and no copy.
 */
import gitleaks from './secret-rules.json' with { type: 'json' };
import local from './secret-rules-local.json' with { type: 'json' };
import { minMatchLength } from './regex-min-length.js';

/** One rule as stored in the data files. */
export interface RuleData {
  id: string;
  regex: string;
  flags: string;
  keywords: string[];
  entropy?: number;
  secretGroup?: number;
  allow?: { target: string; regexes?: string[][]; stopwords?: string[] }[];
}

interface CompiledRule {
  id: string;
  re: RegExp;
  keywords: readonly string[];
  entropy: number;
  group: number | undefined;
  generic: boolean;
  allowSecret: RegExp[];
  allowMatch: RegExp[];
  stopwords: readonly string[];
}

/** Where the rule data came from (shown by the README and kept for audits). */
export const SECRET_RULES_SOURCE = {
  gitleaks: gitleaks.source,
  local: local.source,
} as const;

function compile(rule: RuleData): CompiledRule | undefined {
  try {
    const allowSecret: RegExp[] = [];
    const allowMatch: RegExp[] = [];
    const stopwords: string[] = [];
    for (const a of rule.allow ?? []) {
      for (const [src, flags] of a.regexes ?? [])
        (a.target === 'match' ? allowMatch : allowSecret).push(new RegExp(src ?? '', flags ?? ''));
      stopwords.push(...(a.stopwords ?? []).map((w) => w.toLowerCase()));
    }
    return {
      id: rule.id,
      re: new RegExp(rule.regex, `gd${rule.flags}`),
      keywords: rule.keywords.map((k) => k.toLowerCase()),
      entropy: rule.entropy ?? 0,
      group: rule.secretGroup,
      generic: rule.id.startsWith('generic'),
      allowSecret,
      allowMatch,
      stopwords,
    };
  } catch {
    return undefined; // a pattern this runtime cannot compile is left out, never fatal
  }
}

/** Shannon entropy in bits per character, as gitleaks computes it. */
function entropy(text: string): number {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** The span of the secret in a match: the rule's secretGroup, else the first group that matched, else all. */
function secretSpan(m: RegExpExecArray, group: number | undefined): [number, number] | undefined {
  const idx = m.indices;
  if (!idx) return undefined;
  if (group !== undefined) return idx[group];
  for (let i = 1; i < idx.length; i++) {
    const span = idx[i];
    if (span && span[1] > span[0]) return span;
  }
  return idx[0];
}

function allowed(rule: CompiledRule, secret: string, match: string): boolean {
  if (rule.entropy > 0) {
    if (entropy(secret) <= rule.entropy) return true;
    if (rule.generic && !/\d/.test(secret)) return true; // gitleaks: generic secrets hold a digit
  }
  if (rule.allowSecret.some((re) => re.test(secret))) return true;
  if (rule.allowMatch.some((re) => re.test(match))) return true;
  if (rule.stopwords.length > 0) {
    const lower = secret.toLowerCase();
    if (rule.stopwords.some((w) => lower.includes(w))) return true;
  }
  return false;
}

/** A secret scanner over one rule set (the module's default serves the SDK and the pipeline). */
export interface SecretScanner {
  /** The character ranges of `text` that hold secrets, sorted and merged (at most `maxMatches` per rule). */
  find(text: string, maxMatches?: number): [number, number][];
  /** How many rules it runs (the data minus patterns this runtime cannot compile). */
  readonly ruleCount: number;
}

/** One keyword with the rules it selects. */
interface KeywordEntry {
  keyword: string;
  rules: number[];
}

/**
 * Which rules a text can trigger, found in one pass: every keyword is filed under its first two
 * characters, so each position of the text costs one table lookup (plus a comparison per keyword
 * sharing that pair) instead of one `includes` per keyword and rule. Same outcome as gitleaks'
 * pre-filter (a rule runs when the lowercased text contains one of its keywords), plus a necessary
 * condition gitleaks does not check: a rule whose shortest match is longer than the text is left out.
 */
interface KeywordIndex {
  /** (first char code << 16 | second char code) -> keywords starting so (any characters). */
  byPair: Map<number, KeywordEntry[]>;
  /** The same for pairs of ASCII characters, as a table: (first << 7 | second) -> entry list, or -1. */
  asciiPair: Int32Array;
  asciiLists: KeywordEntry[][];
  /** Rules of one-character keywords (none in today's data; kept so such data stays correct). */
  single: KeywordEntry[];
  /** Rules without keywords: they always run (when the text is long enough). */
  always: number[];
}

function indexKeywords(rules: readonly CompiledRule[]): KeywordIndex {
  const byKeyword = new Map<string, number[]>();
  const always: number[] = [];
  rules.forEach((rule, i) => {
    if (rule.keywords.length === 0) always.push(i);
    for (const k of new Set(rule.keywords)) {
      if (k === '') {
        always.push(i);
        continue;
      }
      const list = byKeyword.get(k) ?? [];
      list.push(i);
      byKeyword.set(k, list);
    }
  });
  const byPair = new Map<number, KeywordEntry[]>();
  const single: KeywordEntry[] = [];
  for (const [keyword, ruleIds] of byKeyword) {
    const entry = { keyword, rules: ruleIds };
    if (keyword.length < 2) single.push(entry);
    else {
      const pair = (keyword.charCodeAt(0) << 16) | keyword.charCodeAt(1);
      const list = byPair.get(pair) ?? [];
      list.push(entry);
      byPair.set(pair, list);
    }
  }
  const asciiPair = new Int32Array(128 * 128).fill(-1);
  const asciiLists: KeywordEntry[][] = [];
  for (const [pair, list] of byPair) {
    const a = pair >>> 16;
    const b = pair & 0xffff;
    // Keywords are lowercase: a pair holding an ASCII capital can never be met by the ASCII path.
    if (a >= 128 || b >= 128) continue;
    asciiPair[(a << 7) | b] = asciiLists.length;
    asciiLists.push(list);
  }
  return { byPair, asciiPair, asciiLists, single, always: [...new Set(always)] };
}

/** Whether `text` at `at` holds `keyword` (lowercase) with ASCII capitals folded; text is ASCII. */
function asciiKeywordAt(text: string, at: number, keyword: string): boolean {
  if (at + keyword.length > text.length) return false;
  for (let j = 2; j < keyword.length; j++) {
    let c = text.charCodeAt(at + j);
    if (c >= 65 && c <= 90) c |= 32;
    if (c !== keyword.charCodeAt(j)) return false;
  }
  return true;
}

/** Runs one rule over `text`, adding the spans of its secrets that no allow-list lets through. */
function runRule(rule: CompiledRule, text: string, maxMatches: number, spans: [number, number][]) {
  rule.re.lastIndex = 0;
  let m: RegExpExecArray | null;
  let n = 0;
  while ((m = rule.re.exec(text)) !== null && n++ < maxMatches) {
    if (m[0] === '') {
      rule.re.lastIndex++;
      continue;
    }
    const span = secretSpan(m, rule.group);
    if (!span || span[1] <= span[0]) continue;
    if (allowed(rule, text.slice(span[0], span[1]), m[0])) continue;
    spans.push([span[0], span[1]]);
  }
}

function mergeSpans(spans: [number, number][]): [number, number][] {
  if (spans.length === 0) return spans;
  spans.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [spans[0]!];
  for (const s of spans.slice(1)) {
    const last = merged[merged.length - 1]!;
    if (s[0] <= last[1]) last[1] = Math.max(last[1], s[1]);
    else merged.push(s);
  }
  return merged;
}

const compileAll = (rules: readonly RuleData[]): CompiledRule[] =>
  rules.flatMap((r) => compile(r) ?? []);

/**
 * The scanner as the SDK and the pipeline run it. Rule selection is one pass over the text with no
 * lowercased copy when the text is ASCII (the usual case: ids, paths, commands); other texts take
 * the lowercased path. Either way a rule runs exactly when gitleaks' pre-filter would run it and
 * the text is at least as long as the rule's shortest match.
 */
export function createSecretScanner(data: readonly RuleData[]): SecretScanner {
  const rules = compileAll(data);
  const index = indexKeywords(rules);
  const minLength = Int32Array.from(rules, (r) => minMatchLength(r.re.source, r.re.flags));
  const shortest = rules.length === 0 ? 0 : Math.max(8, Math.min(...minLength));
  // Which rules the current text selected: stamped with the call's number, so no clearing per call.
  const stamp = new Uint32Array(rules.length);
  let call = 0;
  let count = 0;
  let len = 0;
  const mark = (list: readonly number[]): void => {
    for (const r of list)
      if (stamp[r] !== call && minLength[r]! <= len) {
        stamp[r] = call;
        count++;
      }
  };
  const begin = (text: string): void => {
    if (++call === 0xffffffff) {
      stamp.fill(0);
      call = 1;
    }
    count = 0;
    len = text.length;
    mark(index.always);
  };
  /** Selection over an ASCII text; false (selection incomplete) at the first non-ASCII character. */
  const selectAscii = (text: string): boolean => {
    let prev = text.charCodeAt(0);
    if (prev >= 128) return false;
    if (prev >= 65 && prev <= 90) prev |= 32;
    for (let i = 1; i < len; i++) {
      let c = text.charCodeAt(i);
      if (c >= 128) return false;
      if (c >= 65 && c <= 90) c |= 32;
      const e = index.asciiPair[(prev << 7) | c]!;
      prev = c;
      if (e < 0) continue;
      for (const entry of index.asciiLists[e]!)
        if (asciiKeywordAt(text, i - 1, entry.keyword)) mark(entry.rules);
    }
    return true;
  };
  const selectLowered = (lower: string): void => {
    for (const e of index.single) if (lower.includes(e.keyword)) mark(e.rules);
    const last = lower.length - 1;
    let code = lower.charCodeAt(0);
    for (let i = 0; i < last; i++) {
      const next = lower.charCodeAt(i + 1);
      const candidates = index.byPair.get((code << 16) | next);
      code = next;
      if (candidates === undefined) continue;
      for (const e of candidates) if (lower.startsWith(e.keyword, i)) mark(e.rules);
    }
  };
  return {
    ruleCount: rules.length,
    find(text, maxMatches = 1000) {
      if (text.length < shortest) return [];
      begin(text);
      if (index.single.length > 0 || !selectAscii(text)) {
        begin(text);
        selectLowered(text.toLowerCase());
      }
      if (count === 0) return [];
      const spans: [number, number][] = [];
      for (let r = 0; r < rules.length; r++)
        if (stamp[r] === call) runRule(rules[r]!, text, maxMatches, spans);
      return mergeSpans(spans);
    },
  };
}

/**
 * gitleaks' semantics written plainly, for tests: every rule whose keyword occurs in the lowercased
 * text (or that has none) runs. The fast scanner must find exactly what this finds.
 */
export function createReferenceScanner(data: readonly RuleData[]): SecretScanner {
  const rules = compileAll(data);
  return {
    ruleCount: rules.length,
    find(text, maxMatches = 1000) {
      if (text.length < 8) return [];
      const lower = text.toLowerCase();
      const spans: [number, number][] = [];
      for (const rule of rules)
        if (rule.keywords.length === 0 || rule.keywords.some((k) => lower.includes(k)))
          runRule(rule, text, maxMatches, spans);
      return mergeSpans(spans);
    },
  };
}

/** The rule data the SDK and the pipeline scan with: harness-meter's forms, then gitleaks'. */
export const SECRET_RULE_DATA: readonly RuleData[] = [
  ...(local.rules as RuleData[]),
  ...(gitleaks.rules as RuleData[]),
];

const SCANNER = createSecretScanner(SECRET_RULE_DATA);

/** How many rules are active (the data files minus patterns this runtime cannot compile). */
export const SECRET_RULE_COUNT = SCANNER.ruleCount;

/**
 * The character ranges of `text` that hold secrets, sorted and merged. Bounded: at most
 * `maxMatches` matches per rule are looked at (a pathological text cannot make this quadratic).
 */
export function findSecrets(text: string, maxMatches = 1000): [number, number][] {
  return SCANNER.find(text, maxMatches);
}

/** Replaces every secret of `text` with `mask`. */
export function maskSecretSpans(text: string, mask: string): string {
  const spans = findSecrets(text);
  if (spans.length === 0) return text;
  let out = '';
  let at = 0;
  for (const [from, to] of spans) {
    out += text.slice(at, from) + mask;
    at = to;
  }
  return out + text.slice(at);
}
