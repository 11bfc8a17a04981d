// A bare node:http / node:https server for bench/load/tls-split.ts: every GET is answered with the same 64 MiB
// from memory, written in 1 MiB pieces with backpressure (as Cairn's send-body writes), so what it costs is
// only Node's HTTP and TLS. `/health/live` answers empty. Certificates from --certs-dir (public.crt,
// private.key), as `cairn server` reads them.
//   node bench/load/bare-server.mjs --address 127.0.0.1:PORT [--certs-dir DIR]
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { parseArgs } from 'node:util';

const { values: v } = parseArgs({ options: { address: { type: 'string' }, 'certs-dir': { type: 'string' } } });
const [host, port] = (v.address ?? '127.0.0.1:0').split(':');
const SIZE = 64 * 1024 * 1024;
const PIECE = 1024 * 1024;
const body = Buffer.alloc(SIZE, 0x5a);

function answer(req, res) {
  req.resume();
  if (req.url === '/health/live') return res.end();
  res.writeHead(200, { 'content-length': SIZE, 'content-type': 'application/octet-stream' });
  let at = 0;
  const more = () => {
    while (at < SIZE) {
      const piece = body.subarray(at, at + PIECE);
      at += piece.length;
      if (!res.write(piece)) return res.once('drain', more);
    }
    res.end();
  };
  more();
}

const dir = v['certs-dir'];
const server = dir
  ? https.createServer({ key: readFileSync(`${dir}/private.key`), cert: readFileSync(`${dir}/public.crt`) }, answer)
  : http.createServer(answer);
server.keepAliveTimeout = 60_000;
server.listen(Number(port), host);
process.on('SIGTERM', () => process.exit(0));
