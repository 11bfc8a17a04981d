import { mkdtempSync, readFileSync } from 'node:fs';
const { startServer } = await import('./dist/main.js');
const d = mkdtempSync('/dev/shm/cores-m');
const s = await startServer({
  drives: [`${d}/d{1...4}`],
  address: '127.0.0.1:0',
  credentials: { root: { accessKey: 'akey', secretKey: 'sk-12345678' } },
});
console.log(s.url);
setInterval(() => {
  const m = process.memoryUsage();
  const anon = /Pss_Anon:\s+(\d+)/.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))[1];
  console.error(
    'rss',
    (m.rss / 1e6).toFixed(0),
    'anon',
    (anon / 1e3).toFixed(0),
    'heapTotal',
    (m.heapTotal / 1e6).toFixed(0),
    'heapUsed',
    (m.heapUsed / 1e6).toFixed(0),
    'ext',
    (m.external / 1e6).toFixed(0),
    'ab',
    (m.arrayBuffers / 1e6).toFixed(0),
  );
}, 3000).unref();
process.on('SIGTERM', async () => {
  await s.close();
  (await import('node:fs')).rmSync(d, { recursive: true });
  process.exit(0);
});
