// Runs every benchmark in bench/. Each prints its conditions, a same-run baseline and the ratio.
// HM_BENCH=redundancy, HM_BENCH=kafka, HM_BENCH=linkage or HM_BENCH=dashboard runs one.
const which = process.env.HM_BENCH;
if (!which || which === 'redundancy') await import('./redundancy.js');
if (!which || which === 'kafka') await import('./kafka-enrich.js');
if (!which || which === 'linkage') await import('./linkage.js');
if (!which || which === 'dashboard') await import('./dashboard.js');
