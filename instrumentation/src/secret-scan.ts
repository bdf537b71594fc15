/**
 * Secret detection over free text, driven by rule data: gitleaks' default rule set
 * (secret-rules.json, converted by scripts/gitleaks-rules.py, source and commit recorded in the file)
 * plus harness-meter's own forms (secret-rules-local.json). Rules are compiled once; a rule runs
 * only when one of its keywords occurs in the text (gitleaks' own pre-filter), so a text without
 * any keyword costs one lower-casing and a few `includes`.
 */
import gitleaks from './secret-rules.json' with { type: 'json' };
import local from './secret-rules-local.json' with { type: 'json' };

/** One rule as stored in the data files. */
interface RuleData {
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

const RULES: readonly CompiledRule[] = [
  ...(local.rules as RuleData[]),
  ...(gitleaks.rules as RuleData[]),
].flatMap((r) => compile(r) ?? []);

/** How many rules are active (the data files minus patterns this runtime cannot compile). */
export const SECRET_RULE_COUNT = RULES.length;

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

/**
 * Which rules a text can trigger, found in one pass: every keyword is filed under its first two
 * characters, so each position of the lowercased text costs one Map lookup (plus a `startsWith` per
 * keyword sharing that pair) instead of one `includes` per keyword and rule. Same outcome as
 * gitleaks' pre-filter (a rule runs when the lowercased text contains one of its keywords).
 */
interface KeywordIndex {
  /** (first char code << 16 | second char code) -> keywords starting so, each with its rules. */
  byPair: Map<number, { keyword: string; rules: number[] }[]>;
  /** Rules of one-character keywords (none in today's data; kept so such data stays correct). */
  single: { keyword: string; rules: number[] }[];
  /** Rules without keywords: they always run. */
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
  const byPair = new Map<number, { keyword: string; rules: number[] }[]>();
  const single: { keyword: string; rules: number[] }[] = [];
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
  return { byPair, single, always: [...new Set(always)] };
}

const INDEX = indexKeywords(RULES);
/** Scratch flags, one per rule (the scan is synchronous, so one array serves every call). */
const selected = new Uint8Array(RULES.length);

/** Marks in `selected` the rules whose keywords occur in `lower`; returns how many were marked. */
function selectRules(lower: string): number {
  selected.fill(0);
  let n = 0;
  const mark = (rules: readonly number[]): void => {
    for (const r of rules)
      if (selected[r] === 0) {
        selected[r] = 1;
        n++;
      }
  };
  mark(INDEX.always);
  for (const e of INDEX.single) if (lower.includes(e.keyword)) mark(e.rules);
  const last = lower.length - 1;
  let code = lower.charCodeAt(0);
  for (let i = 0; i < last; i++) {
    const next = lower.charCodeAt(i + 1);
    const candidates = INDEX.byPair.get((code << 16) | next);
    code = next;
    if (candidates === undefined) continue;
    for (const e of candidates) if (lower.startsWith(e.keyword, i)) mark(e.rules);
  }
  return n;
}

/**
 * The character ranges of `text` that hold secrets, sorted and merged. Bounded: at most
 * `maxMatches` matches per rule are looked at (a pathological text cannot make this quadratic).
 */
export function findSecrets(text: string, maxMatches = 1000): [number, number][] {
  if (text.length < 8) return [];
  if (selectRules(text.toLowerCase()) === 0) return [];
  const spans: [number, number][] = [];
  for (let r = 0; r < RULES.length; r++) {
    if (selected[r] === 0) continue;
    const rule = RULES[r]!;
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
