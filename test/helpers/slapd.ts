// A real OpenLDAP server (Debian's slapd) for tests: its own cn=config made with slapadd from a small LDIF,
// the directory's entries loaded with slapadd, listening on a free loopback port. slapd's parent process exits
// once the daemon serves (it waits for the child), which is the signal that the server is ready.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SLAPD = '/usr/sbin/slapd';
const SLAPADD = '/usr/sbin/slapadd';

export interface Slapd {
  /** host:port, as CAIRN_IDENTITY_LDAP_SERVER_ADDR takes it. */
  addr: string;
  suffix: string;
  rootDn: string;
  rootPassword: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

function configLdif(dir: string, suffix: string, rootDn: string, rootPassword: string): string {
  return `dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: ${dir}/slapd.pid

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: ${suffix}
olcDbDirectory: ${dir}/db
olcRootDN: ${rootDn}
olcRootPW: ${rootPassword}
olcAccess: {0}to attrs=userPassword by anonymous auth by * none
olcAccess: {1}to * by users read by * none
`;
}

/** Starts slapd with `entries` (LDIF, under `suffix`); `stop` ends it and removes its files. */
export async function startSlapd(entries: string, suffix = 'dc=example,dc=com'): Promise<Slapd> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-slapd-'));
  const rootDn = `cn=admin,${suffix}`;
  const rootPassword = 'slapd-root-secret';
  await mkdir(join(dir, 'slapd.d'));
  await mkdir(join(dir, 'db'));
  await writeFile(join(dir, 'config.ldif'), configLdif(dir, suffix, rootDn, rootPassword));
  await writeFile(join(dir, 'data.ldif'), entries);
  await run(SLAPADD, ['-n', '0', '-F', join(dir, 'slapd.d'), '-l', join(dir, 'config.ldif')]);
  await run(SLAPADD, ['-n', '1', '-F', join(dir, 'slapd.d'), '-l', join(dir, 'data.ldif')]);
  const port = await freePort();
  // Returns when the daemon (a child it forks) is serving.
  await run(SLAPD, ['-F', join(dir, 'slapd.d'), '-h', `ldap://127.0.0.1:${port}/`]);
  const pid = Number((await readFile(join(dir, 'slapd.pid'), 'utf8')).trim());
  return {
    addr: `127.0.0.1:${port}`,
    suffix,
    rootDn,
    rootPassword,
    stop: async () => {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
