// HTTPS: `--certs-dir` in MinIO's layout with certificates made here (openssl), real clients trusting the
// test CA, SNI subfolders (RSA next to the ECDSA default), TLS < 1.2 refused, reload on file change and on
// SIGHUP (the CLI) without a restart; the console's own address (--console-address) with the same certificates.
import { spawnCairn } from '../helpers/cli.js';
import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { connect, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeleteBucketPolicyCommand,
  GetObjectCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { ReloadResult } from '@cairn/server';
import { ROOT, s3Error, startWithBucket, type TestSetup } from '../helpers/cairn.js';
import { install, issue, makeCa, type TestCa } from '../helpers/tls.js';
import { WORKER_MODES } from '../helpers/workers.js';

let base: string;
let ca: TestCa;
let certs: string;
let setup: TestSetup;

/** The certificate a TLS handshake with the server presents (or the handshake's error). */
function handshake(port: number, opts: ConnectionOptions = {}): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: ca.pem, ...opts }, () => {
      const cert = socket.getPeerCertificate();
      socket.destroy();
      resolve(cert);
    });
    socket.on('error', reject);
  });
}

const keyType = (cert: PeerCertificate): string | undefined =>
  new X509Certificate(cert.raw).publicKey.asymmetricKeyType;

/** Resolves with the first successful reload reported after the call. */
function nextGoodReload(): Promise<void> {
  return new Promise((resolve) => {
    const onReload = (r: ReloadResult) => {
      if (!r.ok) return;
      setup.server.tls!.off('reload', onReload);
      resolve();
    };
    setup.server.tls!.on('reload', onReload);
  });
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-tls-'));
  ca = await makeCa(join(base, 'ca'));
  certs = join(base, 'certs');
  await install(certs, await issue(ca, ['127.0.0.1', 'localhost'], 'ecdsa'));
  await install(join(certs, 'rsa-site'), await issue(ca, ['*.rsa.cairn.test'], 'rsa'));
  setup = await startWithBucket('tls', {
    certsDir: certs,
    consoleAddress: '127.0.0.1:0',
    client: { extra: { requestHandler: { httpsAgent: new Agent({ ca: ca.pem }) } } },
  });
});

afterAll(async () => {
  await setup?.server.close();
  await rm(base, { recursive: true, force: true });
});

describe('HTTPS from --certs-dir', () => {
  it('serves S3 over TLS to the AWS SDK trusting the test CA', async () => {
    expect(setup.server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    await setup.s3.send(new PutObjectCommand({ Bucket: 'tls', Key: 'k', Body: 'over tls' }));
    const got = await setup.s3.send(new GetObjectCommand({ Bucket: 'tls', Key: 'k' }));
    expect(await got.Body!.transformToString()).toBe('over tls');
  });

  // A GET's pieces go to the socket corked; a short last piece left in a TLS socket after the uncork is not a full
  // socket: the answer must still end (it once waited for a 'drain' that never came).
  it('ends a multi-piece GET whose last piece is a few bytes', async () => {
    const body = Buffer.alloc(2 * 1024 * 1024 + 7, 0x5a);
    body.writeUInt32BE(0xdeadbeef, body.length - 4);
    await setup.s3.send(new PutObjectCommand({ Bucket: 'tls', Key: 'pieces', Body: body }));
    const got = await setup.s3.send(new GetObjectCommand({ Bucket: 'tls', Key: 'pieces' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
  }, 30_000);

  it('serves the console on its own address over TLS too, with the same certificate', async () => {
    expect(setup.server.consoleUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/console\/$/);
    const port = setup.server.consolePort!;
    expect((await handshake(port)).fingerprint256).toBe((await handshake(setup.server.port)).fingerprint256);
    const page = await new Promise<number>((resolve, reject) => {
      const req = httpsGet(setup.server.consoleUrl!, { ca: ca.pem }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
    });
    expect(page).toBe(200);
  });

  it('tells the policy engine the request came over TLS (aws:SecureTransport)', async () => {
    const policy = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::tls/*',
          Condition: { Bool: { 'aws:SecureTransport': 'true' } },
        },
      ],
    };
    await setup.s3.send(new PutBucketPolicyCommand({ Bucket: 'tls', Policy: JSON.stringify(policy) }));
    await setup.s3.send(new PutObjectCommand({ Bucket: 'tls', Key: 'public', Body: 'anyone over tls' }));
    const anon = setup.server.client({
      extra: { requestHandler: { httpsAgent: new Agent({ ca: ca.pem }) }, signer: { sign: async (r) => r } },
    });
    const got = await anon.send(new GetObjectCommand({ Bucket: 'tls', Key: 'public' }));
    expect(await got.Body!.transformToString()).toBe('anyone over tls');
    await setup.s3.send(new DeleteBucketPolicyCommand({ Bucket: 'tls' }));
    expect((await s3Error(anon.send(new GetObjectCommand({ Bucket: 'tls', Key: 'public' })))).name).toBe(
      'AccessDenied',
    );
  });

  it('is refused by a client that does not trust the CA', async () => {
    const untrusting = setup.server.client({ extra: { requestHandler: { httpsAgent: new Agent() } } });
    await expect(untrusting.send(new GetObjectCommand({ Bucket: 'tls', Key: 'k' }))).rejects.toThrow(/certificate/);
  });

  it('does not answer plain HTTP on the TLS port', async () => {
    const plain = setup.server.client({ extra: { endpoint: setup.server.url.replace('https:', 'http:') } });
    await expect(plain.send(new GetObjectCommand({ Bucket: 'tls', Key: 'k' }))).rejects.toThrow();
  });

  it('picks the certificate by SNI name: ECDSA default, RSA from a subfolder (wildcard)', async () => {
    const port = setup.server.port;
    expect(keyType(await handshake(port))).toBe('ec');
    expect(keyType(await handshake(port, { servername: 'a.rsa.cairn.test' }))).toBe('rsa');
    expect(keyType(await handshake(port, { servername: 'localhost' }))).toBe('ec');
  });

  it('refuses TLS 1.0 and 1.1 clients, accepts 1.2 and 1.3', async () => {
    const port = setup.server.port;
    // The client would offer old versions (security level 0 lets OpenSSL 3 do so): the server says no.
    for (const maxVersion of ['TLSv1', 'TLSv1.1'] as const) {
      const err = await handshake(port, { minVersion: 'TLSv1', maxVersion, ciphers: 'DEFAULT:@SECLEVEL=0' }).then(
        () => undefined,
        (e: NodeJS.ErrnoException) => e,
      );
      expect(err?.code).toBe('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
    }
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      await expect(handshake(port, { minVersion: version, maxVersion: version })).resolves.toBeDefined();
    }
  });

  it('reloads changed files without a restart, and keeps the old certificate when the new files are bad', async () => {
    const port = setup.server.port;
    const before = (await handshake(port)).fingerprint256;
    // A key that does not match the certificate: refused, the served certificate stays.
    const other = await issue(ca, ['127.0.0.1'], 'ecdsa');
    const refused = new Promise<ReloadResult>((resolve) => setup.server.tls!.once('reload', resolve));
    await writeFile(join(certs, 'private.key'), other.key);
    expect((await refused).ok).toBe(false);
    expect((await handshake(port)).fingerprint256).toBe(before);
    // The matching certificate arrives: served from the next handshake on.
    const reloaded = nextGoodReload();
    await writeFile(join(certs, 'public.crt'), other.cert);
    await reloaded;
    const after = await handshake(port);
    expect(after.fingerprint256).not.toBe(before);
    expect(after.fingerprint256).toBe(new X509Certificate(other.cert).fingerprint256);
    // The console's own address (--console-address) serves the same certificates, reloaded with them.
    expect((await handshake(setup.server.consolePort!)).fingerprint256).toBe(after.fingerprint256);
    // A TLS 1.2 handshake after the reload is still held to TLS >= 1.2.
    const old = await handshake(port, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' })
      .then(() => 'accepted')
      .catch(() => 'refused');
    expect(old).toBe('refused');
  });
});

describe('cairn server --certs-dir (the command)', () => {
  // With workers of both modes: a worker thread's start-up failure reaches stderr as a worker process's does.
  it.each(WORKER_MODES)('refuses to start when an explicit --certs-dir has no certificate (%s)', async (mode) => {
    const empty = join(base, 'empty');
    const workers = ['--workers', '2', '--worker-mode', mode];
    const child = spawnCairn(
      ['server', '--address', '127.0.0.1:0', ...workers, '--certs-dir', empty, join(base, `e-${mode}{1...4}`)],
      { CAIRN_LOG_LEVEL: 'error' },
      ['ignore', 'ignore', 'pipe'],
    );
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const [code] = await once(child, 'exit');
    expect(code).not.toBe(0);
    expect(stderr).toContain('no public.crt');
  });

  // --workers 2: the primary passes SIGHUP on, and each worker reloads its own certificates.
  it.each([1, 2])('serves HTTPS and reloads its certificates on SIGHUP (--workers %i)', async (workers) => {
    const dir = join(base, `cli-certs-${workers}`);
    await install(dir, await issue(ca, ['127.0.0.1'], 'rsa'));
    const child = spawnCairn(
      [
        'server',
        '--address',
        '127.0.0.1:0',
        '--workers',
        String(workers),
        '--certs-dir',
        dir,
        join(base, `c${workers}-{1...4}`),
      ],
      { CAIRN_ROOT_USER: ROOT.accessKey, CAIRN_ROOT_PASSWORD: ROOT.secretKey },
      ['ignore', 'pipe', 'inherit'],
    );
    try {
      const lines: Record<string, unknown>[] = [];
      const waiters: [(l: Record<string, unknown>) => boolean, () => void][] = [];
      createInterface({ input: child.stdout! }).on('line', (text) => {
        const line = JSON.parse(text) as Record<string, unknown>;
        lines.push(line);
        for (const [match, resolve] of waiters) if (match(line)) resolve();
      });
      const logged = (match: (l: Record<string, unknown>) => boolean) =>
        lines.some(match) ? Promise.resolve() : new Promise<void>((r) => waiters.push([match, r]));
      await logged((l) => typeof l.url === 'string');
      const url = new URL(lines.find((l) => typeof l.url === 'string')!.url as string);
      expect(url.protocol).toBe('https:');
      const port = Number(url.port);
      expect(keyType(await handshake(port))).toBe('rsa');
      // No file changed since the start (the watcher has nothing to report): the reload comes from SIGHUP.
      expect(lines.some((l) => l.msg === 'TLS certificates reloaded')).toBe(false);
      const slots = workers === 1 ? [undefined] : [1, 2];
      const reloaded = slots.map((w) => logged((l) => l.msg === 'TLS certificates reloaded' && l.worker === w));
      child.kill('SIGHUP');
      await Promise.all(reloaded);
      expect(keyType(await handshake(port))).toBe('rsa');
      // A client over HTTPS still gets S3 answers (an anonymous request: AccessDenied, not a TLS failure).
      const anon = setup.server.client({
        extra: {
          endpoint: url.origin,
          requestHandler: { httpsAgent: new Agent({ ca: ca.pem }) },
          signer: { sign: async (r) => r },
        },
      });
      expect((await s3Error(anon.send(new GetObjectCommand({ Bucket: 'none', Key: 'k' })))).status).toBeDefined();
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});
