// Certificates made by the tests with the openssl command: a throw-away CA and leaf certificates signed by it
// (ECDSA P-256 or RSA 2048), written in the layout `cairn server --certs-dir` reads.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type KeyType = 'ecdsa' | 'rsa';

export interface TestCa {
  dir: string;
  certPath: string;
  keyPath: string;
  /** PEM text of the CA certificate (what clients trust). */
  pem: string;
}

function keyArgs(type: KeyType): string[] {
  return type === 'ecdsa' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'] : ['-newkey', 'rsa:2048'];
}

export async function makeCa(dir: string, type: KeyType = 'ecdsa', cn = 'Cairn test CA'): Promise<TestCa> {
  await mkdir(dir, { recursive: true });
  const certPath = join(dir, 'ca.crt');
  const keyPath = join(dir, 'ca.key');
  await run('openssl', [
    'req',
    '-x509',
    ...keyArgs(type),
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${cn}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    keyPath,
    '-out',
    certPath,
  ]);
  return { dir, certPath, keyPath, pem: await readFile(certPath, 'utf8') };
}

export interface Leaf {
  cert: string;
  key: string;
}

/**
 * A leaf certificate for `names` (DNS names and IP addresses), signed by `ca`, for server and client
 * authentication (the nodes of a cluster present theirs to each other: mutual TLS), or only `usages`.
 */
export async function issue(
  ca: TestCa,
  names: string[],
  type: KeyType = 'ecdsa',
  cn = names[0],
  usages = 'serverAuth,clientAuth',
): Promise<Leaf> {
  const stem = join(ca.dir, `leaf-${Math.random().toString(36).slice(2)}`);
  const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  await run('openssl', [
    'req',
    ...keyArgs(type),
    '-nodes',
    '-subj',
    `/CN=${cn}`,
    '-keyout',
    `${stem}.key`,
    '-out',
    `${stem}.csr`,
  ]);
  await writeFile(`${stem}.ext`, `subjectAltName=${san}\nextendedKeyUsage=${usages}\n`);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    `${stem}.csr`,
    '-CA',
    ca.certPath,
    '-CAkey',
    ca.keyPath,
    // A serial file per leaf (a random serial each): leaves issued at once do not race on one file.
    '-CAserial',
    `${stem}.srl`,
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    `${stem}.ext`,
    '-out',
    `${stem}.crt`,
  ]);
  return { cert: await readFile(`${stem}.crt`, 'utf8'), key: await readFile(`${stem}.key`, 'utf8') };
}

/** Writes `leaf` as DIR/public.crt + DIR/private.key (DIR created). */
export async function install(dir: string, leaf: Leaf): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'public.crt'), leaf.cert);
  await writeFile(join(dir, 'private.key'), leaf.key);
}

/** An intermediate CA signed by `root`, named `cn` (its certificate and key in `dir`). */
export async function makeIntermediate(root: TestCa, dir: string, cn = 'Cairn test intermediate'): Promise<TestCa> {
  await mkdir(dir, { recursive: true });
  const certPath = join(dir, 'ca.crt');
  const keyPath = join(dir, 'ca.key');
  await run('openssl', [
    'req',
    ...keyArgs('ecdsa'),
    '-nodes',
    '-subj',
    `/CN=${cn}`,
    '-keyout',
    keyPath,
    '-out',
    `${certPath}.csr`,
  ]);
  await writeFile(`${certPath}.ext`, 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    `${certPath}.csr`,
    '-CA',
    root.certPath,
    '-CAkey',
    root.keyPath,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    `${certPath}.ext`,
    '-out',
    certPath,
  ]);
  return { dir, certPath, keyPath, pem: await readFile(certPath, 'utf8') };
}
