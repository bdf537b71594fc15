-- alerts: notices recorded since {since} that no channel attempt finished (delivered or failed):
-- what a restarted evaluator still has to send.
SELECT a.notice_id AS notice_id, a.alert_id AS alert_id, a.state AS state, a.payload AS payload
FROM {db:Identifier}.alerts AS a
WHERE a.recorded_at >= {since:DateTime64(3, 'UTC')}
  AND a.notice_id NOT IN (
    SELECT notice_id FROM {db:Identifier}.alert_deliveries
    WHERE channel = {channel:String} AND status IN ('delivered', 'failed')
  )
ORDER BY a.recorded_at, a.notice_id
