-- fragment: the key of cost --by <dimension> (cost_by.sql, cost_by_breakdown.sql); {by:String} chooses it.
multiIf(
        {by:String} = 'developer', developer,
        {by:String} = 'team', team,
        {by:String} = 'repo', repo,
        {by:String} = 'model', model,
        {by:String} = 'provider', provider,
        {by:String} = 'source', source,
        {by:String} = 'day', toString(toDate(minute)),
        {by:String} = 'month', formatDateTime(minute, '%Y-%m'),
        {by:String} = 'session', session_id,
        ''
    )
