-- detect: sessions idle for at least {idle_ms} whose newest span arrived after their last scan
-- (session_activity: each session's newest span arrival, migration 0018).
SELECT s.session_id AS session_id
FROM
(
    SELECT session_id, max(a.last) AS last
    FROM {db:Identifier}.session_activity AS a
    WHERE a.last >= now64(3) - toIntervalDay({days:UInt32})
    GROUP BY session_id
    HAVING last <= now64(3) - toIntervalMillisecond({idle_ms:UInt64})
) AS s
LEFT JOIN
(
    SELECT session_id, max(last_ingested_at) AS scanned FROM {db:Identifier}.session_scans GROUP BY session_id
) AS d ON s.session_id = d.session_id
WHERE s.last > d.scanned
ORDER BY s.last
LIMIT {limit:UInt32}
SETTINGS join_use_nulls = 0
