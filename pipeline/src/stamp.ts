import type { SpanRecord } from './model.js';

/** What a session works on, from its latest `harness_meter.session_context` event. */
interface SessionStamp {
  at: bigint;
  repo: string;
  branch: string;
  commit: string;
  pr: number;
  team: string;
}

/** Sessions whose stamp is remembered (least recently stamped dropped first): ~200 bytes each. */
export const MAX_STAMPED_SESSIONS = 100_000;

export interface SessionStamper {
  /** Learns from context records and fills repository, branch, commit, PR and team on records that lack them. */
  apply(records: SpanRecord[]): SpanRecord[];
}

/**
 * Agents such as Claude Code stamp no repository, branch or PR. `harness-meter stamp`, run from the
 * agent's hooks, sends the session's current ones; records of that session that come after it and
 * lack them get them (a branch switch mid-session splits the session by record, not charging one PR
 * for all). Records without any stamp stay unattributed.
 */
export function createSessionStamper(maxSessions: number = MAX_STAMPED_SESSIONS): SessionStamper {
  const stamps = new Map<string, SessionStamp>();
  return {
    apply(records) {
      const ordered = [...records].sort((a, b) =>
        a.startTimeUnixNano < b.startTimeUnixNano
          ? -1
          : a.startTimeUnixNano > b.startTimeUnixNano
            ? 1
            : 0,
      );
      for (const r of ordered) {
        if (!r.sessionId) continue;
        if (r.name === 'session_context' && r.source === 'stamp') {
          const prev = stamps.get(r.sessionId);
          if (prev && prev.at > r.startTimeUnixNano) continue;
          stamps.delete(r.sessionId);
          stamps.set(r.sessionId, {
            at: r.startTimeUnixNano,
            repo: r.repo,
            branch: r.branch,
            commit: r.commit,
            pr: r.pr,
            team: r.team,
          });
          if (stamps.size > maxSessions) stamps.delete(stamps.keys().next().value as string);
          continue;
        }
        const s = stamps.get(r.sessionId);
        if (!s || r.startTimeUnixNano < s.at) continue;
        if (!r.repo && s.repo) r.repo = s.repo;
        if (!r.branch && s.branch) r.branch = s.branch;
        if (!r.commit && s.commit) r.commit = s.commit;
        if (!r.pr && s.pr) r.pr = s.pr;
        if (!r.team && s.team) r.team = s.team;
      }
      return records;
    },
  };
}
