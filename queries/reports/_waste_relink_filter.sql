-- fragment: in _waste_source.sql (variant relink), the findings a re-link recomputes ({all} = 1: every
-- one): of the marked hours and sessions, and of sessions that may belong to a marked repository (by
-- their rollup rows or the findings' own repository); prelink_waste.sql keeps the exact rows.
      AND ({all:UInt8} = 1
           OR toStartOfHour(f.Timestamp) IN {hours:Array(DateTime('UTC'))}
           OR f.session_id IN {sessions:Array(String)}
           OR lower(replaceRegexpOne(replaceRegexpOne(f.repo, '(\\.git)?/*$', ''), '^(?:[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/]*@)?[^/]+/|[^@/:]+@[^:/]+:)', '')) IN {repos:Array(String)}
           OR f.session_id IN (SELECT session_id FROM {db:Identifier}.usage_by_link_hour WHERE repo_key IN {repos:Array(String)}))
