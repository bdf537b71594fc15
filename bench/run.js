// Runs every benchmark in bench/. Each prints its conditions, a same-run baseline and the ratio.
// HM_BENCH=redundancy or HM_BENCH=kafka runs one.
const which = process.env.HM_BENCH;
if (!which || which === 'redundancy') await import('./redundancy.js');
if (!which || which === 'kafka') await import('./kafka-enrich.js');
