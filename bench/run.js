// Runs every benchmark in bench/. Each prints its conditions, a same-run baseline and the ratio.
await import('./kafka-enrich.js');
