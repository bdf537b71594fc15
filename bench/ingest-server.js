// Child process of bench/ingest.js. HM_BENCH_INGEST_ROLE=embedded starts the embedded server (chDB in
// HM_DATA_DIR, the rest of the configuration from the environment); =bare starts a node:http server
// that only reads each body and answers 200 (the baseline). Sends { url } to the parent over IPC and
// answers { rss } (bytes, with cpuMs: its CPU time so far) when asked, so the parent can sample the server's memory.
import http from 'node:http';

const role = process.env.HM_BENCH_INGEST_ROLE ?? 'embedded';
let stop;
let flush = async () => {};
if (role === 'bare') {
  const server = http.createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c) => (bytes += c.length));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'x-bytes': String(bytes) });
      res.end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  process.send({ url: `http://127.0.0.1:${server.address().port}` });
  stop = () => new Promise((r) => server.close(r));
} else {
  // HM_BENCH_INGEST_DIST: another build's pipeline/dist (bench/ingest.js's before/after run).
  const dist =
    process.env.HM_BENCH_INGEST_DIST ?? new URL('../pipeline/dist', import.meta.url).pathname;
  const { loadConfig } = await import(`${dist}/config.js`);
  const { startEmbedded } = await import(`${dist}/embedded.js`);
  const { createLogger } = await import(`${dist}/logger.js`);
  const config = loadConfig(process.env, { port: 0, host: '127.0.0.1' });
  // HM_BENCH_INGEST_PROFILE=1: store time per statement kind, every 5 s, on stderr (preload mode).
  const profile = process.env.HM_BENCH_INGEST_PROFILE
    ? (await import('./lib/query-profile.js')).installQueryProfile()
    : undefined;
  const server = await startEmbedded(config, createLogger(config.logLevel));
  if (profile) (await import('./lib/query-profile.js')).printProfileEvery(profile, 5000);
  process.send({ url: server.receiver.url });
  stop = () => server.stop();
  // Until every acknowledged span is stored (the write-ahead log's drain; at once without it).
  flush = async () => {
    for (;;) {
      try {
        return await server.sink.flush();
      } catch (err) {
        if (err?.code !== 'STORE_BEHIND') throw err;
      }
    }
  };
}
process.on('message', async (m) => {
  if (m === 'rss') {
    // cpuMs: this process's CPU time (every thread: chDB's inserts and merges too).
    const cpu = process.cpuUsage();
    process.send({ rss: process.memoryUsage().rss, cpuMs: (cpu.user + cpu.system) / 1000 });
  }
  if (m === 'flush') {
    await flush();
    process.send({ flushed: true });
  }
  if (m === 'stop') {
    await stop();
    process.send({ stopped: true });
    process.exit(0);
  }
});
