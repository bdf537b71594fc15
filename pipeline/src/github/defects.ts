import type { DefectRow } from '@harness-meter/queries';
import { repoKey, toClickHouseTime } from '@harness-meter/queries';
import { PipelineError } from '../errors.js';
import { readInputFile } from './import.js';

/**
 * Pure rules that link a defect to a PR: the references a commit message, a PR body or an incident
 * makes. Only the reference is kept as evidence, never the text around it.
 */
export type DefectKind = 'revert-commit' | 'revert-pr' | 'fix-reference' | 'incident';

/** What a message points at: a PR by number, or a commit by (possibly abbreviated) SHA. */
export type DefectTarget = { pr: number } | { sha: string };

export interface DefectReference {
  kind: DefectKind;
  target: DefectTarget;
  /** The matched reference, e.g. `This reverts commit 5d6e7f8`. */
  evidence: string;
}

const FIX_WORDS = '(?:fix(?:e[sd])?|close[sd]?|resolve[sd]?|regressed by|caused by|broken by)';
const MAY_REFERENCE = /revert|fix|close|resolve|regressed|caused|broken/i;
const PR_LINK = String.raw`https?://github\.com/([\w.-]+/[\w.-]+)/pull/(\d+)`;

/**
 * References to earlier work in a message, as git and GitHub write them:
 * - `This reverts commit <sha>.` (git revert) → revert-commit;
 * - `Revert "Merge pull request #N …"` subjects and `Reverts owner/repo#N` (GitHub's revert PR) → revert-pr;
 * - `Fixes #N`, `Fixes: <sha>` (the Linux kernel's form), `Fixes <PR link>` → fix-reference.
 * `#N` names a PR only if N turns out to be a merged PR of the repository (the report checks).
 * References to another repository are ignored.
 * @example messageReferences('Revert x\n\nThis reverts commit 1a2b3c4d.', 'acme/api')
 */
export function messageReferences(message: string, repo: string): DefectReference[] {
  // Most messages name nothing: one cheap test before the rules (the walk reads every message).
  if (!MAY_REFERENCE.test(message)) return [];
  const out: DefectReference[] = [];
  const sameRepo = (r: string | undefined): boolean =>
    r === undefined || r === '' || repoKey(r) === repo;
  const seen = new Set<string>();
  const add = (kind: DefectKind, target: DefectTarget, evidence: string): void => {
    const key = `${kind}:${'pr' in target ? `#${target.pr}` : target.sha}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ kind, target, evidence: evidence.replace(/\s+/g, ' ').trim() });
  };
  for (const m of message.matchAll(/This reverts commit ([0-9a-f]{7,40})/gi))
    add('revert-commit', { sha: (m[1] ?? '').toLowerCase() }, m[0]);
  for (const m of message.matchAll(/^Revert "Merge pull request #(\d+)/gim))
    add('revert-pr', { pr: Number(m[1]) }, m[0]);
  for (const m of message.matchAll(/\bReverts ([\w.-]+\/[\w.-]+)?#(\d+)/g))
    if (sameRepo(m[1])) add('revert-pr', { pr: Number(m[2]) }, m[0]);
  for (const m of message.matchAll(new RegExp(String.raw`\bReverts ${PR_LINK}`, 'gi')))
    if (sameRepo(m[1])) add('revert-pr', { pr: Number(m[2]) }, m[0]);
  const fix = new RegExp(
    String.raw`\b${FIX_WORDS}:?\s+(?:([\w.-]+\/[\w.-]+)?#(\d+)|${PR_LINK}|([0-9a-f]{7,40})\b)`,
    'gi',
  );
  for (const m of message.matchAll(fix)) {
    if (m[2] !== undefined) {
      if (sameRepo(m[1])) add('fix-reference', { pr: Number(m[2]) }, m[0]);
    } else if (m[4] !== undefined) {
      if (sameRepo(m[3])) add('fix-reference', { pr: Number(m[4]) }, m[0]);
    } else if (m[5] !== undefined && /[a-f]/i.test(m[5]) && /\d/.test(m[5]))
      add('fix-reference', { sha: m[5].toLowerCase() }, m[0]);
  }
  return out;
}

/** One incident record of `import incidents FILE`. */
export interface IncidentRecord {
  id: string;
  opened_at: Date;
  repo: string;
  pr?: number;
  commit?: string;
  label: string;
}

function fail(where: string, what: string): never {
  throw new PipelineError(
    'BAD_REQUEST',
    `${where}: ${what}. Each incident needs id, opened_at (ISO time), repo (or --repo) and pr or commit; nothing was stored.`,
  );
}

/** Splits one CSV line (RFC 4180 quoting). */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i += 1;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((f) => f.trim());
}

function incident(o: Record<string, unknown>, where: string, repoDefault: string): IncidentRecord {
  const s = (k: string): string => {
    const v = o[k];
    return typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '';
  };
  const id = s('id');
  if (id === '') fail(where, 'no id');
  const opened = new Date(s('opened_at'));
  if (s('opened_at') === '' || Number.isNaN(opened.getTime()))
    fail(where, `opened_at ${JSON.stringify(o.opened_at)} is not an ISO time`);
  const repo = repoKey(s('repo') || repoDefault);
  if (!repo.includes('/')) fail(where, 'no repository (a repo column, or --repo owner/name)');
  const prText = s('pr').replace(/^#/, '');
  const pr = prText === '' ? undefined : Number(prText);
  if (pr !== undefined && (!Number.isInteger(pr) || pr <= 0))
    fail(where, `pr ${JSON.stringify(o.pr)} is not a PR number`);
  const commit = s('commit').toLowerCase();
  if (commit !== '' && !/^[0-9a-f]{7,40}$/.test(commit))
    fail(where, `commit ${JSON.stringify(o.commit)} is not a SHA`);
  if (pr === undefined && commit === '') fail(where, 'neither pr nor commit');
  return {
    id,
    opened_at: opened,
    repo,
    ...(pr === undefined ? {} : { pr }),
    ...(commit === '' ? {} : { commit }),
    label: s('label'),
  };
}

/**
 * Incidents from a CSV (header row: id,opened_at,pr,commit[,repo,label]) or JSON (an array of such
 * objects) file. Every record is checked before any is returned.
 */
export function readIncidentsFile(file: string, repoDefault = ''): IncidentRecord[] {
  const text = readInputFile(file);
  if (/^\s*[[{]/.test(text)) {
    let data: unknown;
    try {
      data = JSON.parse(text) as unknown;
    } catch (err) {
      throw new PipelineError(
        'BAD_REQUEST',
        `${file} is not JSON (${err instanceof Error ? err.message : String(err)}).`,
      );
    }
    const items = Array.isArray(data) ? data : [data];
    return items.map((item, i) =>
      incident(
        typeof item === 'object' && item !== null ? (item as Record<string, unknown>) : {},
        `${file} element ${i}`,
        repoDefault,
      ),
    );
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = csvFields(lines[0] ?? '').map((h) => h.toLowerCase());
  if (!header.includes('id') || !header.includes('opened_at'))
    fail(`${file} line 1`, `the CSV header must name id and opened_at (got ${lines[0] ?? ''})`);
  return lines.slice(1).map((line, i) => {
    const fields = csvFields(line);
    return incident(
      Object.fromEntries(header.map((h, j) => [h, fields[j] ?? ''])),
      `${file} line ${i + 2}`,
      repoDefault,
    );
  });
}

/**
 * Defect rows of incidents. An incident that names a commit needs `prOfSha` (the PR that brought
 * it, from `import git`); one whose commit is unknown is returned in `unresolved`.
 */
export function incidentDefects(
  incidents: readonly IncidentRecord[],
  prOfSha: (repo: string, sha: string) => number | undefined,
  source: DefectRow['source'],
): { rows: DefectRow[]; unresolved: IncidentRecord[] } {
  const rows: DefectRow[] = [];
  const unresolved: IncidentRecord[] = [];
  for (const inc of incidents) {
    const pr = inc.pr ?? (inc.commit === undefined ? undefined : prOfSha(inc.repo, inc.commit));
    if (pr === undefined || pr === 0) {
      unresolved.push(inc);
      continue;
    }
    rows.push({
      repo: inc.repo,
      pr,
      defect_key: `incident:${inc.id}`,
      kind: 'incident',
      at: toClickHouseTime(inc.opened_at),
      evidence:
        `${inc.id}${inc.label === '' ? '' : ` [${inc.label}]`} names ` +
        (inc.pr !== undefined ? `#${inc.pr}` : `commit ${inc.commit ?? ''}`),
      source,
    });
  }
  return { rows, unresolved };
}

/** Labels that make a GitHub issue an incident, unless HM_INCIDENT_LABELS says otherwise. */
export const DEFAULT_INCIDENT_LABELS = ['bug', 'incident'] as const;

/**
 * Incidents from a GitHub `issues` webhook payload: an issue opened, labeled or edited that carries
 * one of `labels` (case-insensitive) is an incident opened at its created_at, naming every PR
 * (`#N`, `owner/repo#N`, a pull link) and commit (a commit link, or a SHA of 7-40 hex digits with
 * a letter and a digit) of its repository that its title or body mentions. One record per name;
 * the id is `issue#<number>`. The title and body are read here and never stored.
 */
export function issueIncidents(payload: unknown, labels: readonly string[]): IncidentRecord[] {
  const p = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<
    string,
    unknown
  >;
  if (!['opened', 'labeled', 'edited', 'reopened'].includes(String(p.action))) return [];
  const issue = (typeof p.issue === 'object' && p.issue !== null ? p.issue : {}) as Record<
    string,
    unknown
  >;
  if (issue.pull_request !== undefined) return []; // GitHub sends PR comments' issues too
  const names = (Array.isArray(issue.labels) ? issue.labels : [])
    .map((l) => String((l as Record<string, unknown> | null)?.name ?? l).toLowerCase())
    .filter((l) => labels.some((x) => x.toLowerCase() === l));
  if (names.length === 0) return [];
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  const repository = (p.repository ?? {}) as Record<string, unknown>;
  const repo = repoKey(str(repository.full_name));
  const number = Number(issue.number);
  const opened = new Date(str(issue.created_at));
  if (!repo.includes('/') || !Number.isInteger(number) || Number.isNaN(opened.getTime()))
    throw new PipelineError(
      'BAD_REQUEST',
      'issues payload without repository.full_name, issue.number or issue.created_at: send GitHub webhook payloads unchanged.',
    );
  const text = `${str(issue.title)}\n${str(issue.body)}`;
  const out: IncidentRecord[] = [];
  const seen = new Set<string>();
  const base = { id: `issue#${number}`, opened_at: opened, repo, label: names[0] ?? '' };
  const addPr = (n: number): void => {
    if (n === number || seen.has(`#${n}`)) return;
    seen.add(`#${n}`);
    out.push({ ...base, pr: n });
  };
  for (const m of text.matchAll(/(?:^|[\s(])([\w.-]+\/[\w.-]+)?#(\d+)\b/g))
    if (m[1] === undefined || repoKey(m[1]) === repo) addPr(Number(m[2]));
  for (const m of text.matchAll(/github\.com\/([\w.-]+\/[\w.-]+)\/pull\/(\d+)/g))
    if (repoKey(m[1] ?? '') === repo) addPr(Number(m[2]));
  for (const m of text.matchAll(/(?:\/commit\/|\b)([0-9a-f]{7,40})\b/g)) {
    const sha = m[1] ?? '';
    if (!/[a-f]/.test(sha) || !/\d/.test(sha) || seen.has(sha)) continue;
    seen.add(sha);
    out.push({ ...base, commit: sha });
  }
  return out;
}
