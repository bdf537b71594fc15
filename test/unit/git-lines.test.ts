import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDiffParser, type ParsedCommit } from '../../pipeline/src/github/diff-parse.js';
import {
  messageReferences,
  readIncidentsFile,
  incidentDefects,
  issueIncidents,
} from '../../pipeline/src/github/defects.js';
import { createLineTracker, type LineGroup } from '../../pipeline/src/github/line-tracker.js';
import { sessionTrailer, squashSessionTrailer } from '../../pipeline/src/github/events.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

function group(name: string, mergedAtMs = T0): LineGroup {
  return {
    merge_sha: name,
    pr: 1,
    merged_at_ms: mergedAtMs,
    origin_sha: name,
    origin_session: '',
    origin_author: '',
    lines_added: 0,
    rewritten_14d: 0,
    removed_14d: 0,
    rewritten_30d: 0,
    removed_30d: 0,
  };
}

const file = (path: string, hunks: [number, number, number, number][]) => ({
  oldPath: path,
  newPath: path,
  hunks: hunks.map(([oldStart, oldCount, newStart, newCount]) => ({
    oldStart,
    oldCount,
    newStart,
    newCount,
  })),
});

describe('line tracker (pure)', () => {
  it('follows lines through inserts above them, rewrites and removals, by window', () => {
    const t = createLineTracker();
    const g = group('g');
    // a new file of 10 lines, all g's
    expect(
      t.apply(
        T0,
        [
          {
            oldPath: null,
            newPath: 'f',
            hunks: [{ oldStart: 0, oldCount: 0, newStart: 1, newCount: 10 }],
          },
        ],
        () => g,
      ),
    ).toBe(10);
    expect(g.lines_added).toBe(10);
    // day 1: 2 untracked lines inserted at the top (after old line 0): g's lines shift to 3..12
    t.apply(T0 + DAY, [file('f', [[0, 0, 1, 2]])], () => undefined);
    // day 5: rewrite new lines 3..4 (g's first two) into 1 line; day 20: remove line 12 (g's last)
    t.apply(T0 + 5 * DAY, [file('f', [[3, 2, 3, 1]])], () => undefined);
    t.apply(T0 + 20 * DAY, [file('f', [[11, 1, 10, 0]])], () => undefined);
    expect(g).toMatchObject({ rewritten_14d: 2, removed_14d: 0, rewritten_30d: 2, removed_30d: 1 });
    expect(t.trackedLines()).toBe(7);
    // day 40: deleting the rest is outside both windows; compact releases the lines
    t.apply(
      T0 + 40 * DAY,
      [
        {
          oldPath: 'f',
          newPath: null,
          hunks: [{ oldStart: 1, oldCount: 10, newStart: 0, newCount: 0 }],
        },
      ],
      () => undefined,
    );
    expect(g).toMatchObject({ rewritten_30d: 2, removed_30d: 1 });
    expect(t.trackedLines()).toBe(0);
  });

  it('keeps lines across a rename, and compact() forgets closed windows', () => {
    const t = createLineTracker();
    const g = group('g');
    t.apply(
      T0,
      [
        {
          oldPath: null,
          newPath: 'a',
          hunks: [{ oldStart: 0, oldCount: 0, newStart: 1, newCount: 3 }],
        },
      ],
      () => g,
    );
    t.apply(T0 + DAY, [{ oldPath: 'a', newPath: 'b', hunks: [] }], () => undefined);
    t.apply(T0 + 2 * DAY, [file('b', [[2, 1, 1, 0]])], () => undefined);
    expect(g.removed_14d).toBe(1);
    expect(t.trackedLines()).toBe(2);
    t.compact(T0 + 31 * DAY);
    expect(t.trackedLines()).toBe(0);
  });
});

describe('diff parser (pure)', () => {
  it('reads files and hunk headers, skipping content even when it looks like a header', () => {
    const commits: ParsedCommit[] = [];
    const p = createDiffParser((c) => commits.push(c));
    for (const l of [
      '\x1eaaaa',
      '',
      'diff --git a/x.ts b/y.ts',
      'similarity index 90%',
      'rename from x.ts',
      'rename to y.ts',
      '--- a/x.ts',
      '+++ b/y.ts',
      '@@ -3,2 +3 @@ fn',
      '--- not a header',
      '-two',
      '+@@ -1 +1 @@',
      'diff --git a/new.ts b/new.ts',
      'new file mode 100644',
      '--- /dev/null',
      '+++ "b/sp ace.ts"',
      '@@ -0,0 +1,2 @@',
      '+1',
      '+2',
      '\x1ebbbb',
    ])
      p.line(l);
    p.end();
    expect(commits).toEqual([
      {
        sha: 'aaaa',
        changes: [
          {
            oldPath: 'x.ts',
            newPath: 'y.ts',
            hunks: [{ oldStart: 3, oldCount: 2, newStart: 3, newCount: 1 }],
          },
          {
            oldPath: null,
            newPath: 'sp ace.ts',
            hunks: [{ oldStart: 0, oldCount: 0, newStart: 1, newCount: 2 }],
          },
        ],
      },
      { sha: 'bbbb', changes: [] },
    ]);
  });
});

describe('squash merges (pure)', () => {
  it('find a trailer of the squashed commits anywhere in the body', () => {
    const body =
      'Add x (#7)\n\n* work on x\n\nAgent-Session: s-1\n\n* tidy\n\nCo-authored-by: A <a@b.c>';
    expect(sessionTrailer(body)).toBe('');
    expect(squashSessionTrailer(body)).toBe('s-1');
    expect(squashSessionTrailer('Add x (#7)\n\nno session here')).toBe('');
  });
});

describe('defect references (pure)', () => {
  it('finds reverts, revert PRs and fixes of this repository only', () => {
    const sha = '1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d';
    expect(
      messageReferences(
        `Revert "Merge pull request #12 from acme/x"\n\nThis reverts commit ${sha}, reversing\nchanges made to abc.`,
        'acme/api',
      ).map((r) => [r.kind, r.target]),
    ).toEqual([
      ['revert-commit', { sha }],
      ['revert-pr', { pr: 12 }],
    ]);
    expect(
      messageReferences(
        'Hotfix\n\nReverts acme/api#7\nFixes #8, fixes other/repo#9\nFixes: 1a2b3c4d5e6f ("x")\nCloses https://github.com/acme/api/pull/10',
        'acme/api',
      ).map((r) => [r.kind, r.target]),
    ).toEqual([
      ['revert-pr', { pr: 7 }],
      ['fix-reference', { pr: 8 }],
      ['fix-reference', { sha: '1a2b3c4d5e6f' }],
      ['fix-reference', { pr: 10 }],
    ]);
    expect(messageReferences('fixed typo in README\n\nsee #3', 'acme/api')).toEqual([]);
  });

  it('reads incidents from CSV and JSON, and refuses a bad record naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-inc-'));
    const csv = join(dir, 'i.csv');
    writeFileSync(
      csv,
      'id,opened_at,pr,commit\nI-1,2026-01-02T00:00:00Z,#4,\n"I,2",2026-01-03,,ABCDEF1\n',
    );
    const recs = readIncidentsFile(csv, 'https://github.com/Acme/API');
    expect(recs.map((r) => [r.id, r.repo, r.pr, r.commit])).toEqual([
      ['I-1', 'acme/api', 4, undefined],
      ['I,2', 'acme/api', undefined, 'abcdef1'],
    ]);
    const { rows, unresolved } = incidentDefects(recs, () => undefined, 'import-incidents');
    expect(rows.map((r) => [r.pr, r.defect_key, r.evidence])).toEqual([
      [4, 'incident:I-1', 'I-1 names #4'],
    ]);
    expect(unresolved.map((u) => u.id)).toEqual(['I,2']);
    const json = join(dir, 'i.json');
    writeFileSync(json, JSON.stringify([{ id: 'J', opened_at: 'yesterday', pr: 1, repo: 'a/b' }]));
    expect(() => readIncidentsFile(json)).toThrow(
      /element 0: opened_at "yesterday" is not an ISO time/,
    );
  });
});

describe('incidents from the issues webhook (pure)', () => {
  const payload = (labels: string[], body: string, extra: Record<string, unknown> = {}) => ({
    action: 'opened',
    repository: { full_name: 'acme/api' },
    issue: {
      number: 9,
      created_at: '2026-02-01T00:00:00Z',
      title: 'Outage',
      body,
      labels: labels.map((name) => ({ name })),
      ...extra,
    },
  });
  it('names the PRs and commits of this repository an issue with a configured label mentions', () => {
    const recs = issueIncidents(
      payload(
        ['Incident'],
        'since #7 (and acme/api#8), commit https://github.com/acme/api/commit/0a1b2c3d4e; not x/y#1 or #9',
      ),
      ['bug', 'incident'],
    );
    expect(recs.map((r) => [r.id, r.pr, r.commit, r.label])).toEqual([
      ['issue#9', 7, undefined, 'incident'],
      ['issue#9', 8, undefined, 'incident'],
      ['issue#9', undefined, '0a1b2c3d4e', 'incident'],
    ]);
    expect(issueIncidents(payload(['question'], '#7'), ['bug'])).toEqual([]);
    expect(issueIncidents(payload(['bug'], '#7', { pull_request: {} }), ['bug'])).toEqual([]);
    expect(() => issueIncidents(payload(['bug'], '#7', { created_at: 'soon' }), ['bug'])).toThrow(
      /issue.created_at/,
    );
  });
});
