-- fragment: in _waste_source.sql (variant relink), the findings a re-link recomputes ({all} = 1: every
-- one): those of the sessions being re-linked (queries/src/prelink.ts finds them from the marks), read
-- through the findings' key.
      AND ({all:UInt8} = 1 OR f.session_id IN {sessions:Array(String)})
