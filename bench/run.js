// Runs every benchmark in bench/. Each prints its conditions, a same-run baseline and the ratio.
// HM_BENCH=<name> runs one (see bench/README.md).
// HM_BENCH=redundancy, kafka, linkage, git, transcripts, dashboard or reports runs one.
// HM_BENCH=redundancy, kafka, linkage, git, transcripts, dashboard, ingest or ingest-formats runs one.
const which = process.env.HM_BENCH;
if (!which || which === 'redundancy') await import('./redundancy.js');
if (!which || which === 'kafka') await import('./kafka-enrich.js');
if (!which || which === 'linkage') await import('./linkage.js');
if (!which || which === 'git') await import('./git-walk.js');
if (!which || which === 'transcripts') await import('./transcripts.js');
if (!which || which === 'dashboard') await import('./dashboard.js');
if (!which || which === 'sdk') await import('./sdk.js');
if (!which || which === 'cli') await import('./cli.js');
if (!which || which === 'shutdown') await import('./shutdown.js');
if (!which || which === 'decode') await import('./decode.js');
if (!which || which === 'reports') await import('./reports.js');
if (!which || which === 'ingest') await import('./ingest.js');
if (!which || which === 'ingest-formats') await import('./ingest-formats.js');
if (!which || which === 'ingest-ceiling') await import('./ingest-ceiling.js');
