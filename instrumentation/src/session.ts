import { context, createContextKey, type Attributes, type Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { SessionCall } from './rules.js';
import {
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_HM_TASK_INTENT,
  ATTR_HM_TEAM,
  ATTR_USER_EMAIL,
  ATTR_USER_ID,
  ATTR_VCS_CHANGE_ID,
  ATTR_VCS_REF_HEAD_NAME,
  ATTR_VCS_REF_HEAD_REVISION,
  ATTR_VCS_REPOSITORY_NAME,
  ATTR_VCS_REPOSITORY_URL_FULL,
  INSTRUMENTATION_NAME,
} from './semconv.js';

/** Who works where, on what: carried onto every span of the session. */
export interface SessionContext {
  /** Generated when absent. */
  sessionId?: string;
  /** Name of the agent (span `invoke_agent {agentName}`). */
  agentName?: string;
  /** user.id */
  developer?: string;
  /** user.email */
  email?: string;
  /** harness_meter.team */
  team?: string;
  /** vcs.repository.url.full (vcs.repository.name is derived from it) */
  repositoryUrl?: string;
  /** vcs.ref.head.name */
  branch?: string;
  /** vcs.ref.head.revision */
  commit?: string;
  /** vcs.change.id: the pull/merge request number, when known (an integer, or its decimal string) */
  pr?: number | string;
  /** harness_meter.task.intent: fix, implement, review, explore, ... */
  intent?: string;
  /**
   * The agent's working directory: relative paths in tool arguments resolve against it, so
   * `src/a.ts` and `/repo/src/a.ts` are one file. Used in the harness only; never put on spans.
   */
  cwd?: string;
}

/** The parts of a session that may change while it runs. */
export type SessionUpdate = Pick<SessionContext, 'branch' | 'commit' | 'pr' | 'intent'>;

/** Calls a session remembers for the redundancy check (oldest dropped first). */
export const MAX_SESSION_HISTORY = 1000;

/** A running session, handed to the function run by `withSession`. */
export interface Session {
  readonly id: string;
  /** The working directory given to `withSession`, if any. */
  readonly cwd?: string;
  /** The calls so far, as the redundancy rules see them (hashes and sizes only; bounded). */
  readonly history: readonly SessionCall[];
  record(call: SessionCall): void;
  /** Spans started after this carry the new values (e.g. the agent switched branch or opened the PR). */
  update(change: SessionUpdate): void;
  /** The attributes a span started now gets. */
  attributes(): Attributes;
}

const SESSION_KEY = createContextKey('harness_meter.session');

/** Repository name from its URL: `https://github.com/acme/api.git` → `api`. */
export function repositoryName(url: string): string {
  const last =
    url
      .replace(/[?#].*$/, '')
      .replace(/\/+$/, '')
      .split(/[/:]/)
      .at(-1) ?? '';
  return last.replace(/\.git$/, '');
}

/**
 * A repository URL without credentials (CI clones often embed a token:
 * `https://x-access-token:ghs_…@github.com/acme/api.git` → `https://github.com/acme/api.git`).
 */
export function repositoryUrl(url: string): string {
  const u = url.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(u)) return u; // scp-like `git@host:owner/repo.git`
  try {
    const parsed = new URL(u);
    if (!parsed.username && !parsed.password) return u;
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return u.replace(/\/\/[^/@\s]*@/, '//');
  }
}

/** The PR number as vcs.change.id wants it: the decimal string of a non-negative integer. */
function changeId(pr: number | string | undefined): string | undefined {
  if (typeof pr === 'number') return Number.isSafeInteger(pr) && pr >= 0 ? String(pr) : undefined;
  if (typeof pr === 'string' && /^#?\d+$/.test(pr.trim()))
    return String(Number(pr.trim().replace('#', '')));
  return undefined;
}

const UPDATABLE: readonly (keyof SessionUpdate)[] = ['branch', 'commit', 'pr', 'intent'];

export function createSession(ctx: SessionContext, id: string): Session {
  const state: SessionContext = { ...ctx, sessionId: id };
  const repoUrl = ctx.repositoryUrl ? repositoryUrl(ctx.repositoryUrl) : undefined;
  // A ring: once full, each call overwrites the oldest (a shift of 1,000 entries per call cost
  // 15 % of a tool call). `history` reads it in order, copied only when read after a change.
  const ring: SessionCall[] = [];
  let oldest = 0;
  let ordered: SessionCall[] | undefined;
  // Every span started in the session asks for these: computed once per change.
  let cached: Attributes | undefined;
  return {
    id,
    ...(ctx.cwd ? { cwd: ctx.cwd } : {}),
    get history(): readonly SessionCall[] {
      ordered ??= oldest === 0 ? ring.slice() : ring.slice(oldest).concat(ring.slice(0, oldest));
      return ordered;
    },
    record(call) {
      if (ring.length < MAX_SESSION_HISTORY) ring.push(call);
      else {
        ring[oldest] = call;
        oldest = (oldest + 1) % MAX_SESSION_HISTORY;
      }
      ordered = undefined;
    },
    update(change) {
      for (const k of UPDATABLE) {
        const v = change[k];
        if (v !== undefined) (state as Record<string, unknown>)[k] = v;
      }
      cached = undefined;
    },
    attributes() {
      // Object.assign, not a spread: the wrappers add their own keys to the copy, and V8 makes
      // adding keys to a spread copy cost ~1 µs each (measured; the assigned copy: 0.02 µs).
      if (cached) return Object.assign({}, cached);
      const a: Attributes = { [ATTR_GEN_AI_CONVERSATION_ID]: id };
      if (state.developer) a[ATTR_USER_ID] = state.developer;
      if (state.email) a[ATTR_USER_EMAIL] = state.email;
      if (state.team) a[ATTR_HM_TEAM] = state.team;
      if (repoUrl) {
        a[ATTR_VCS_REPOSITORY_URL_FULL] = repoUrl;
        a[ATTR_VCS_REPOSITORY_NAME] = repositoryName(repoUrl);
      }
      if (state.branch) a[ATTR_VCS_REF_HEAD_NAME] = state.branch;
      if (state.commit) a[ATTR_VCS_REF_HEAD_REVISION] = state.commit;
      const change = changeId(state.pr);
      if (change !== undefined) a[ATTR_VCS_CHANGE_ID] = change;
      if (state.intent) a[ATTR_HM_TASK_INTENT] = state.intent;
      cached = a;
      return Object.assign({}, a);
    },
  };
}

export const sessionFrom = (ctx: Context): Session | undefined =>
  ctx.getValue(SESSION_KEY) as Session | undefined;
export const withSessionContext = (ctx: Context, session: Session): Context =>
  ctx.setValue(SESSION_KEY, session);
export const activeSession = (): Session | undefined => sessionFrom(context.active());

/**
 * Stamps the session attributes on every span started inside a session, including spans of
 * other instrumentations (HTTP clients, databases). `startTelemetry` installs it; add it to your
 * own TracerProvider when you bring one.
 */
export class SessionSpanProcessor implements SpanProcessor {
  onStart(span: Span, parentContext: Context): void {
    try {
      const s = sessionFrom(parentContext);
      if (!s) return;
      // The SDK's wrappers start their spans with these attributes already: not twice.
      if (
        span.instrumentationScope.name === INSTRUMENTATION_NAME &&
        span.attributes[ATTR_GEN_AI_CONVERSATION_ID] === s.id
      )
        return;
      span.setAttributes(s.attributes());
    } catch {
      // never let telemetry break the harness
    }
  }
  onEnd(_span: ReadableSpan): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
