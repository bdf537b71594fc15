-- fragment: the PR and rule of a row `u` (hour, pr, ...) given the lookups c (commit), b (branch) and
-- t (trailer), first that applies (see _linked_usage.sql).
multiIf(u.pr != 0, u.pr, c.pr != 0 AND u.hour <= c.end_at, c.pr, b.pr != 0, b.pr, t.pr != 0, t.pr, toUInt32(0)) AS link_pr,
    multiIf(u.pr != 0, 'explicit', c.pr != 0 AND u.hour <= c.end_at, 'commit', b.pr != 0, 'branch', t.pr != 0, 'trailer', 'unattributed') AS link_rule
