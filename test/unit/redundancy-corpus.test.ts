import { describe, expect, it } from 'vitest';
import { evaluate } from '../../pipeline/src/detect/index.js';
import { buildCorpus } from '../fixtures/redundancy/corpus.js';

// The figures the rules reach on the labeled corpus today; the suite fails if they drop.
const FLOOR = { precision: 1, recall: 1 };

describe('redundancy rules on the labeled corpus', () => {
  const corpus = buildCorpus();
  const scores = evaluate(corpus);

  it('has at least 60 sessions, with findings of every kind and sessions with none', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60);
    expect(corpus.filter((s) => s.expected.length === 0).length).toBeGreaterThanOrEqual(20);
    for (const s of scores.filter((x) => x.kind !== 'all'))
      expect(s.truePositives + s.falseNegatives, s.kind).toBeGreaterThan(0);
  });

  it('prints precision and recall per kind, and they do not drop', () => {
    console.log('kind              TP   FP   FN  precision  recall');
    for (const s of scores) {
      console.log(
        `${s.kind.padEnd(16)} ${String(s.truePositives).padStart(3)}  ${String(s.falsePositives).padStart(3)}  ${String(s.falseNegatives).padStart(3)}  ${s.precision.toFixed(3).padStart(9)}  ${s.recall.toFixed(3).padStart(6)}`,
      );
    }
    const all = scores.find((s) => s.kind === 'all')!;
    expect(all.precision).toBeGreaterThanOrEqual(FLOOR.precision);
    expect(all.recall).toBeGreaterThanOrEqual(FLOOR.recall);
    for (const s of scores) expect(s.precision, s.kind).toBeGreaterThanOrEqual(0.97);
  });
});
