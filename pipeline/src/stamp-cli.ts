import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { SESSION_CONTEXT_EVENT } from './decode/agents.js';
import { PipelineError } from './errors.js';

/** What `harness-meter stamp` sends about a session. */
export interface StampFacts {
  session: string;
  repositoryUrl: string;
  branch: string;
  commit: string;
  pr: number | undefined;
  team: string | undefined;
}

const git = (cwd: string, args: string[]): string => {
  try {
    return execFileSync('git', ['-C', cwd, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    }).trim();
  } catch {
    return '';
  }
};

/** `git@github.com:acme/api.git` → `https://github.com/acme/api`; credentials stripped from https URLs. */
export function normalizeRemote(url: string): string {
  const ssh = /^[^@\s]+@([^:\s]+):(.+?)(\.git)?$/.exec(url);
  if (ssh) return `https://${ssh[1]}/${ssh[2]}`;
  return url.replace(/\/\/[^@/]+@/, '//').replace(/\.git$/, '');
}

function prNumber(cwd: string, explicit: string | undefined): number | undefined {
  const fromText = (t: string | undefined): number | undefined =>
    t && /^#?\d{1,9}$/.test(t.trim()) ? Number(t.trim().replace('#', '')) : undefined;
  const given = fromText(explicit) ?? fromText(process.env.HM_PR);
  if (given !== undefined) return given;
  try {
    // The GitHub CLI knows the PR of the current branch, when there is one and gh is installed.
    return fromText(
      execFileSync('gh', ['pr', 'view', '--json', 'number', '-q', '.number'], {
        cwd,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 5000,
      }),
    );
  } catch {
    return undefined;
  }
}

/**
 * Gathers the facts: session id from --session, else from the JSON a Claude Code hook passes on
 * stdin (`session_id`, `cwd`); repository, branch and commit from git in that folder; PR from --pr,
 * HM_PR or `gh pr view`.
 */
export function gatherStamp(options: {
  session?: string | undefined;
  cwd?: string | undefined;
  pr?: string | undefined;
  team?: string | undefined;
  stdin?: string | undefined;
}): StampFacts {
  let hook: { session_id?: unknown; cwd?: unknown } = {};
  if (options.stdin && options.stdin.trim().startsWith('{')) {
    try {
      hook = JSON.parse(options.stdin) as typeof hook;
    } catch {
      hook = {};
    }
  }
  const session =
    options.session ??
    (typeof hook.session_id === 'string' ? hook.session_id : undefined) ??
    process.env.HM_SESSION_ID;
  if (!session)
    throw new PipelineError(
      'BAD_REQUEST',
      'No session id: pass --session ID, set HM_SESSION_ID, or run this from an agent hook that passes {"session_id": …} on stdin.',
    );
  const cwd = options.cwd ?? (typeof hook.cwd === 'string' ? hook.cwd : undefined) ?? process.cwd();
  return {
    session,
    repositoryUrl: normalizeRemote(git(cwd, ['remote', 'get-url', 'origin'])),
    branch: git(cwd, ['branch', '--show-current']),
    commit: git(cwd, ['rev-parse', 'HEAD']),
    pr: prNumber(cwd, options.pr),
    team: options.team ?? process.env.HM_TEAM,
  };
}

/** The OTLP/JSON logs request that carries a stamp. */
export function stampRequest(f: StampFacts, now: Date = new Date()): string {
  const attrs: [string, string][] = [
    ['event.name', SESSION_CONTEXT_EVENT],
    ['session.id', f.session],
    ['vcs.repository.url.full', f.repositoryUrl],
    ['vcs.ref.head.name', f.branch],
    ['vcs.ref.head.revision', f.commit],
    ...(f.pr !== undefined ? ([['vcs.change.id', String(f.pr)]] as [string, string][]) : []),
    ...(f.team ? ([['harness_meter.team', f.team]] as [string, string][]) : []),
  ];
  return JSON.stringify({
    resourceLogs: [
      {
        resource: {
          attributes: [{ key: 'service.name', value: { stringValue: 'harness-meter-stamp' } }],
        },
        scopeLogs: [
          {
            scope: { name: 'harness-meter-stamp' },
            logRecords: [
              {
                timeUnixNano: String(BigInt(now.getTime()) * 1_000_000n),
                body: { stringValue: SESSION_CONTEXT_EVENT },
                attributes: attrs
                  .filter(([, v]) => v !== '')
                  .map(([key, v]) => ({ key, value: { stringValue: v } })),
              },
            ],
          },
        ],
      },
    ],
  });
}

export const readStdinIfPiped = (): string | undefined => {
  if (process.stdin.isTTY) return undefined;
  try {
    return readFileSync(0, 'utf8');
  } catch {
    return undefined;
  }
};
