// TLS between the nodes of a distributed Cairn: four `cairn server` processes on loopback with two drives each,
// given https:// endpoints and each its own certificate (signed by one test CA, in its --certs-dir with the CA
// in CAs/). The storage RPC, the start-up check, the locks and the change bus go over HTTPS verified against
// the CA: PUT/GET/list through different nodes byte-exact. A node whose certificates are wrong refuses to start,
// saying why: without the CA in CAs/, with a certificate of another CA, with one that does not name its address.
// With the CA in CAs/ the TLS is mutual: the internode routes answer only connections presenting a certificate
// of the deployment's CA (a client with the root credentials' token but no such certificate gets 403; S3
// clients need none), and a node whose certificate another CA signed, or one not for client authentication,
// is refused at start-up. The console's own address (--console-address) asks no client certificate, so a browser
// is not offered one to pick; the S3 address still asks, and the internode routes are refused on the console's.
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeClient } from '../helpers/cairn.js';
import { LoopbackCluster, type StartOutcome } from '../helpers/nodes.js';
import { seededRandom } from '../helpers/random.js';
import { install, issue, type Leaf, makeCa, type TestCa } from '../helpers/tls.js';
import { ROOT } from '../helpers/users.js';

const rnd = seededRandom();
const BUCKET = 'sealed';

let cluster: LoopbackCluster;
let ca: TestCa;
let s3: S3Client[];
let certs: string;
let leaves: Leaf[];

/** A certificates directory: `leaf` as public.crt/private.key, and `cas` (PEM) in CAs/. */
async function certsDir(name: string, leaf: { cert: string; key: string }, cas: string[]): Promise<string> {
  const dir = join(certs, name);
  await install(dir, leaf);
  await mkdir(join(dir, 'CAs'), { recursive: true });
  for (const [i, pem] of cas.entries()) await writeFile(join(dir, 'CAs', `ca${i}.crt`), pem);
  return dir;
}

beforeAll(async () => {
  certs = await mkdtemp(join(tmpdir(), 'cairn-cluster-certs-'));
  ca = await makeCa(join(certs, 'ca'));
  leaves = await Promise.all([0, 1, 2, 3].map(() => issue(ca, ['127.0.0.1'])));
  const dirs = await Promise.all(leaves.map((leaf, i) => certsDir(`n${i + 1}`, leaf, [ca.pem])));
  const env = { CAIRN_CONSOLE_ADDRESS: '127.0.0.1:0' };
  cluster = await LoopbackCluster.start(4, 2, env, { certsDir: (i) => dirs[i] });
  const agent = new Agent({ ca: ca.pem });
  s3 = cluster.nodes.map((n) => makeClient(n.url, { extra: { requestHandler: { httpsAgent: agent } } }));
}, 180_000);

afterAll(async () => {
  for (const c of s3 ?? []) c.destroy();
  await cluster?.remove();
  if (certs) await rm(certs, { recursive: true, force: true });
});

async function getBytes(c: S3Client, Key: string): Promise<Buffer> {
  const r = await c.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

async function keys(c: S3Client): Promise<string[]> {
  return ((await c.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? []).map((o) => o.Key!);
}

/** A token as storage/rpc/token.ts mints it (the test's own copy of the derivation). */
function token(): string {
  const expiry = Date.now() + 60_000;
  const key = createHmac('sha256', ROOT.secretKey).update('cairn-storage-rpc-v1').digest();
  return `${expiry}.${createHmac('sha256', key).update(`${ROOT.accessKey}\n${expiry}`).digest('hex')}`;
}

/** POST `path` on node `url` with a valid token, presenting `client` (or no certificate): status and body. */
function internode(url: string, path: string, client?: Leaf): Promise<{ status: number; body: Buffer }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method: 'POST',
        path,
        ca: ca.pem,
        ...(client ? { cert: client.cert, key: client.key } : {}),
        agent: false,
        headers: { authorization: `Bearer ${token()}`, 'content-type': 'application/octet-stream' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    // A msgpack empty array: an empty storage RPC batch, or a bootstrap question's body.
    req.end(Buffer.from([0x90]));
  });
}

/**
 * The handshake messages `openssl s_client -msg` saw with the TLS server on `port` (no client certificate),
 * sending `servername` as SNI when given (the server's SNI callback then picks the context).
 */
function handshake(port: number, servername?: string): Promise<string> {
  const sni = servername ? ['-servername', servername] : ['-noservername'];
  return new Promise((resolve, reject) => {
    const child = execFile(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${port}`, ...sni, '-msg', '-CAfile', ca.certPath],
      { timeout: 120_000 },
      (err, stdout) => (stdout.includes('Verify return code: 0') ? resolve(stdout) : reject(err ?? new Error(stdout))),
    );
    // End of input: s_client closes the connection once the handshake is done.
    child.stdin!.end();
  });
}

function stderrOf(o: StartOutcome): string {
  return 'stderr' in o ? o.stderr : `started at ${o.url}`;
}

describe('four nodes talking TLS', () => {
  const small = rnd.bytes(3000);
  const big = rnd.bytes(2 * 1024 * 1024 + 7);

  it('serves HTTPS; PUT through one node, GET and list through the others, byte-exact', async () => {
    for (const n of cluster.nodes) expect(n.url).toMatch(/^https:\/\//);
    await s3[0].send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3[1].send(new PutObjectCommand({ Bucket: BUCKET, Key: 'small', Body: small }));
    await s3[2].send(new PutObjectCommand({ Bucket: BUCKET, Key: 'big', Body: big }));
    for (const c of s3) {
      expect((await getBytes(c, 'small')).equals(small)).toBe(true);
      expect((await getBytes(c, 'big')).equals(big)).toBe(true);
      expect(await keys(c)).toEqual(['big', 'small']);
    }
  });

  it('mutual TLS: the internode routes need a certificate of the deployment’s CA, S3 requests none', async () => {
    const url = cluster.nodes[1].url;
    const other = await makeCa(join(certs, 'stranger-ca'), 'ecdsa', 'A stranger CA');
    const stranger = await issue(other, ['127.0.0.1']);
    for (const path of ['/cairn/peer/v1/bootstrap', '/cairn/storage/v1/call']) {
      // The right token, but no certificate, or one of another CA: refused, saying why.
      for (const client of [undefined, stranger]) {
        const r = await internode(url, path, client);
        expect(r.status).toBe(403);
        expect(r.body.toString('latin1')).toContain('mutual TLS');
      }
      // A deployment certificate (node 1's) and the token: answered.
      expect((await internode(url, path, leaves[0])).status).toBe(200);
    }
    // S3 clients present no certificate on the same port (the first test too): still served.
    expect((await getBytes(s3[1], 'small')).equals(small)).toBe(true);
  });

  it('mutual TLS: the console’s address asks no client certificate, the S3 address asks one', async () => {
    const node = cluster.nodes[1];
    const said = 'The web console is at ';
    await vi.waitFor(() => expect(node.messages.some((m) => m.startsWith(said))).toBe(true), {
      timeout: 60_000,
      interval: 100,
    });
    const consoleUrl = new URL(node.messages.find((m) => m.startsWith(said))!.slice(said.length));
    const consolePort = Number(consoleUrl.port);
    for (const sni of [undefined, 'localhost']) {
      expect(await handshake(Number(new URL(node.url).port), sni)).toContain('CertificateRequest');
      const toConsole = await handshake(consolePort, sni);
      expect(toConsole).toContain('Finished');
      expect(toConsole).not.toContain('CertificateRequest');
    }
    // A client without a certificate gets the console's page there.
    const page = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: consolePort, path: '/console/', ca: ca.pem, agent: false },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<html');
    // The internode routes on the console's address: a deployment certificate is not even asked for there.
    for (const path of ['/cairn/peer/v1/bootstrap', '/cairn/storage/v1/call']) {
      const r = await internode(consoleUrl.origin, path, leaves[0]);
      expect(r.status).toBe(403);
      expect(r.body.toString('latin1')).toContain('mutual TLS');
    }
  }, 180_000);

  it('a node without the CA, with another CA’s certificate or one for another name refuses to start', async () => {
    await cluster.kill9(3);
    const own = await issue(ca, ['127.0.0.1']);
    // No CA in CAs/: it cannot verify even its own certificate, so not the others' either.
    const noCa = await cluster.startNode(3, { certsDir: await certsDir('no-ca', own, []) });
    expect(noCa).toMatchObject({ code: 1 });
    expect(stderrOf(noCa)).toContain('this node cannot verify its own certificate');
    expect(stderrOf(noCa)).toContain(`put it in ${join(certs, 'no-ca', 'CAs')}`);

    // Another deployment's CA (trusted by this node alone): the others' certificates are not trusted here.
    const other = await makeCa(join(certs, 'other-ca'), 'ecdsa', 'Another CA');
    const foreign = await certsDir('foreign', await issue(other, ['127.0.0.1']), [other.pem]);
    const otherCa = await cluster.startNode(3, { certsDir: foreign });
    expect(otherCa).toMatchObject({ code: 1 });
    expect(stderrOf(otherCa)).toContain('this node cannot join the deployment');
    expect(stderrOf(otherCa)).toContain(`the certificate of ${cluster.nodes[0].url} is not trusted by this node`);

    // Another CA's certificate on a node that trusts both CAs: it can verify the others, but with mutual TLS
    // they refuse it (without, it would have joined).
    const both = await certsDir('both-cas', await issue(other, ['127.0.0.1']), [ca.pem, other.pem]);
    const refused = await cluster.startNode(3, { certsDir: both });
    expect(refused).toMatchObject({ code: 1 });
    expect(stderrOf(refused)).toContain('this node cannot join the deployment');
    expect(stderrOf(refused)).toContain(`${cluster.nodes[0].url} refused this node's certificate: mutual TLS`);

    // The deployment's CA, but a certificate for servers only: it could not present it to the others.
    const serverOnly = await certsDir(
      'server-only',
      await issue(ca, ['127.0.0.1'], 'ecdsa', '127.0.0.1', 'serverAuth'),
      [ca.pem],
    );
    const noClientAuth = await cluster.startNode(3, { certsDir: serverOnly });
    expect(noClientAuth).toMatchObject({ code: 1 });
    expect(stderrOf(noClientAuth)).toContain('it must allow client authentication');

    // The right CA, but a certificate for a name the endpoints do not use.
    const misnamed = await certsDir('misnamed', await issue(ca, ['node4.example']), [ca.pem]);
    const wrongName = await cluster.startNode(3, { certsDir: misnamed });
    expect(wrongName).toMatchObject({ code: 1 });
    expect(stderrOf(wrongName)).toContain(`the certificate of ${cluster.nodes[3].url} does not name its host`);

    // No certificates at all for https:// endpoints.
    const none = await cluster.startNode(3, { certsDir: '' });
    expect(none).toMatchObject({ code: 1 });
    expect(stderrOf(none)).toContain('https:// endpoints: this node needs its certificate');

    // Meanwhile the other three serve (6 of 8 drives); the node back with its certificates joins them.
    await s3[0].send(new PutObjectCommand({ Bucket: BUCKET, Key: 'while-down', Body: small }));
    expect((await getBytes(s3[2], 'while-down')).equals(small)).toBe(true);
    await cluster.restart(3);
    expect((await getBytes(s3[3], 'while-down')).equals(small)).toBe(true);
    expect(await keys(s3[3])).toEqual(['big', 'small', 'while-down']);
  }, 180_000);
});
