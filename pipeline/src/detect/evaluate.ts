import {
  findRedundancy,
  WASTE_KINDS,
  type SessionCall,
  type WasteKind,
} from '@harness-meter/instrumentation/rules';

export interface KindScore {
  kind: WasteKind | 'all';
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  precision: number;
  recall: number;
}

/** Precision and recall of the rules per kind over labeled sessions (a finding matches on span and kind). */
export function evaluate(
  sessions: readonly { calls: SessionCall[]; expected: { spanId: string; kind: WasteKind }[] }[],
): KindScore[] {
  const count = new Map<string, { tp: number; fp: number; fn: number }>();
  const bump = (kind: string, field: 'tp' | 'fp' | 'fn'): void => {
    for (const k of [kind, 'all']) {
      const c = count.get(k) ?? { tp: 0, fp: 0, fn: 0 };
      c[field]++;
      count.set(k, c);
    }
  };
  for (const s of sessions) {
    const found = new Set(findRedundancy(s.calls).map((f) => `${f.spanId}/${f.kind}`));
    const expected = new Set(s.expected.map((e) => `${e.spanId}/${e.kind}`));
    for (const f of found) bump(f.split('/')[1] ?? '', expected.has(f) ? 'tp' : 'fp');
    for (const e of expected) if (!found.has(e)) bump(e.split('/')[1] ?? '', 'fn');
  }
  return [...WASTE_KINDS, 'all' as const].map((kind) => {
    const c = count.get(kind) ?? { tp: 0, fp: 0, fn: 0 };
    return {
      kind,
      truePositives: c.tp,
      falsePositives: c.fp,
      falseNegatives: c.fn,
      precision: c.tp + c.fp === 0 ? 1 : c.tp / (c.tp + c.fp),
      recall: c.tp + c.fn === 0 ? 1 : c.tp / (c.tp + c.fn),
    };
  });
}
