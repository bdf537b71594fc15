// Runs every benchmark in bench/. Each prints its conditions, a same-run baseline and the ratio.
// HM_BENCH=redundancy, HM_BENCH=kafka or HM_BENCH=linkage runs one.
const which = process.env.HM_BENCH;
if (!which || which === 'redundancy') await import('./redundancy.js');
if (!which || which === 'kafka') await import('./kafka-enrich.js');
if (!which || which === 'linkage') await import('./linkage.js');
