-- fragment: in _waste_source.sql (variant relink), the sessions whose link rollup rows are read: those
-- being re-linked, through the findings' key.
                         AND ({all:UInt8} = 1 OR session_id IN {sessions:Array(String)})
