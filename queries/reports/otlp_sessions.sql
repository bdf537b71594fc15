-- Which of these agent sessions already have spans that arrived over OTLP (the agent's own
-- telemetry events, not a transcript import): `harness-meter import` leaves those sessions alone,
-- so a session is never counted from both sources (their ids cannot be matched call by call:
-- the agents' OTLP events carry no message or request id).
SELECT DISTINCT session_id
FROM {db:Identifier}.spans
WHERE session_id IN {sessions:Array(String)}
  AND source IN ('claude-code', 'codex', 'gemini-cli')
  AND SpanAttributes['harness_meter.ingest'] = ''
