/**
 * The secret scanner's fast path (one pass over ASCII text with a pair table, rules skipped when the
 * text is shorter than their shortest match) against gitleaks' semantics written plainly (every rule
 * whose keyword occurs in the lowercased text runs): the same secrets on a generated corpus (strings
 * generated from each rule's own pattern, alone, inside random text, upper-cased, next to non-ASCII
 * characters), on random values that hold no secret, on the secret catalogue and on the bodies of
 * the bad-input catalogue. Secrets must never reach storage because a shortcut skipped a rule.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  createReferenceScanner,
  createSecretScanner,
  SECRET_RULE_DATA,
  type RuleData,
} from '../../instrumentation/src/secret-scan.js';
import { minMatchLength } from '../../instrumentation/src/regex-min-length.js';
import { SECRETS } from '../fixtures/secrets/catalogue.js';
import { CATALOGUE } from '../fixtures/bad-input/catalogue.js';
import { seededRandom } from '../helpers/random.js';

/** randexp (strings that match a pattern); its CommonJS export is the class itself. */
interface Generator {
  max: number;
  randInt: (lo: number, hi: number) => number;
  gen(): string;
}
const RandExp = createRequire(import.meta.url)('randexp') as new (re: RegExp) => Generator;

const rand = seededRandom(20261202);
const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)]!;
const chars = (alphabet: string, n: number): string =>
  Array.from({ length: n }, () => alphabet[int(0, alphabet.length - 1)]).join('');
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+';
const WORDS = [
  'git',
  'push',
  'src/index.ts',
  'npm',
  'run',
  'build',
  '--flag',
  'value',
  'the',
  '=',
  ':',
];
const noise = (): string => Array.from({ length: int(0, 6) }, () => pick(WORDS)).join(' ');

/** Strings matching a rule's pattern: `count` random ones and the shortest randexp makes. */
function samples(rule: RuleData, count: number): string[] {
  let gen: Generator;
  try {
    gen = new RandExp(new RegExp(rule.regex, rule.flags.replace(/[gd]/g, '')));
  } catch {
    return []; // lookbehind and the like: randexp cannot read it (covered by hand below)
  }
  gen.max = 12;
  gen.randInt = (lo: number, hi: number) => int(lo, hi);
  const out = Array.from({ length: count }, () => gen.gen());
  gen.randInt = (lo: number) => lo;
  out.push(gen.gen());
  return out;
}

/** The texts a rule's samples are scanned in. */
function variants(sample: string): string[] {
  return [
    sample,
    `${noise()} ${sample} ${noise()}`,
    `${noise()}${sample}`.toUpperCase(),
    `é ${noise()} ${sample} ü`,
    `${sample} \u{1F600} ${noise()}`,
    // U+212A (Kelvin sign) lowercases to 'k', and U+0130 to 'i̇' (two units): the lowered path.
    `${noise()} ${sample.replace(/k/g, '\u212A')} ${noise()}`,
    `\u0130${sample.replace(/i/g, '\u0130')}`,
  ];
}

const byRule = new Map<string, string[]>();
for (const rule of SECRET_RULE_DATA) byRule.set(rule.id, samples(rule, 6).flatMap(variants));
// The one rule randexp cannot read (look-behind): AWS-secret-shaped runs of 38-42 base64 characters.
byRule.set(
  'hm-aws-secret-shaped',
  Array.from({ length: 60 }, () => {
    const run = chars(B64, int(38, 42));
    return pick([run, `${noise()} ${run} ${noise()}`, `key=${run}`, `x${run}`, `${run}=`]);
  }),
);
const plainValues = Array.from({ length: 3000 }, () => {
  const n = int(0, 120);
  return pick([
    () => chars('0123456789abcdef', n),
    () => `msg_${chars('0123456789abcdef', 24)}`,
    () => `toolu_01${chars(B64, n % 30)}`,
    () => chars(B64 + ' ._-:/', n),
    () => noise(),
    () => chars('abcdefghijklmnopqrstuvwxyzéüİ\u212A ', n),
  ])();
});
const decoder = new TextDecoder();
const badBodies = CATALOGUE.flatMap((c) =>
  c.body === undefined ? [] : [typeof c.body === 'string' ? c.body : decoder.decode(c.body)],
);
const ruleTexts = [...byRule.values()].flat();
const corpus = [
  ...ruleTexts,
  ...plainValues,
  ...SECRETS.map((s) => s.text),
  ...SECRETS.map((s) => `${noise()} ${s.text}`.toUpperCase()),
  ...badBodies,
];

const fast = createSecretScanner(SECRET_RULE_DATA);
const reference = createReferenceScanner(SECRET_RULE_DATA);

/** Texts on which two scanners disagree, with both answers. */
function disagreements(
  a: ReturnType<typeof createSecretScanner>,
  b: ReturnType<typeof createSecretScanner>,
  texts: readonly string[],
): string[] {
  const out: string[] = [];
  for (const t of texts) {
    const x = JSON.stringify(a.find(t));
    const y = JSON.stringify(b.find(t));
    if (x !== y) out.push(`${JSON.stringify(t.slice(0, 120))}: ${x} vs ${y}`);
  }
  return out;
}

describe('secret scan: fast path equals the plain gitleaks pre-filter', () => {
  it('find the same secrets on the generated corpus, the secret catalogue and the bad-input bodies', () => {
    expect(fast.ruleCount).toBe(reference.ruleCount);
    expect(disagreements(fast, reference, corpus)).toEqual([]);
    // The corpus has teeth: most rules' own samples hold a secret the reference finds.
    const rulesFound = [...byRule].filter(([, texts]) =>
      texts.some((t) => reference.find(t).length > 0),
    ).length;
    expect(rulesFound).toBeGreaterThan(0.85 * SECRET_RULE_DATA.length);
    expect(badBodies.length).toBeGreaterThan(20);
  });

  it('stay equal on a second pass (no state kept between texts)', () => {
    const texts = ruleTexts.filter((_, i) => i % 5 === 0);
    expect(disagreements(fast, reference, [...texts].reverse())).toEqual([]);
  });

  it("miss a rule's secrets when its keyword is lost from the fast path's index", () => {
    // For every rule with keywords whose own samples it detects: a fast scanner built from that
    // rule with its keywords replaced disagrees with the reference built from the rule as it is.
    let checked = 0;
    const undetected: string[] = [];
    for (const rule of SECRET_RULE_DATA) {
      if (rule.keywords.length === 0) continue;
      const texts = byRule.get(rule.id)!;
      const ref = createReferenceScanner([rule]);
      if (!texts.some((t) => ref.find(t).length > 0)) continue;
      checked++;
      const broken = createSecretScanner([{ ...rule, keywords: ['\u0001lost'] }]);
      if (disagreements(broken, ref, texts).length === 0) undetected.push(rule.id);
    }
    expect(checked).toBeGreaterThan(150);
    expect(undetected).toEqual([]);
  });
});

describe('minMatchLength: the shortest match of a pattern, never overstated', () => {
  it('read the constructs the rules use', () => {
    const cases: [string, string, number][] = [
      ['abc', '', 3],
      ['a{2,5}b?c*d+', '', 3],
      ['(?=xyz)ab|c', '', 1],
      ['\\bfoo\\1\\k<n>', '', 3],
      ['(?<n>ab)\\k<n>', '', 2],
      ['(?<![a-z])[a-z]{40}(?![a-z])', '', 40],
      ['\\x41\\u0042\\u{43}\\p{L}\\cA', 'u', 5],
      ['(?:ab|c){3}', '', 3],
      ['x{,3}', '', 5], // not a quantifier: five literal characters
      ['[\\]a-z]{2}', '', 2],
      ['^$', '', 0],
      ['(?i:ab)', '', 0], // inline modifiers: unknown, so 0 (always run)
      ['[a[b]]', 'v', 0],
    ];
    for (const [src, flags, want] of cases) expect(minMatchLength(src, flags), src).toBe(want);
  });

  it("never exceed the length of a match of the rule's own samples", () => {
    const over: string[] = [];
    let known = 0;
    for (const rule of SECRET_RULE_DATA) {
      const re = new RegExp(rule.regex, `g${rule.flags}`);
      const least = minMatchLength(re.source, re.flags);
      if (least > 0) known++;
      for (const t of byRule.get(rule.id)!)
        for (const m of t.matchAll(re))
          if (m[0].length < least) over.push(`${rule.id}: ${least} > ${m[0].length}`);
    }
    expect(over).toEqual([]);
    expect(known).toBeGreaterThan(0.9 * SECRET_RULE_DATA.length);
  });
});
