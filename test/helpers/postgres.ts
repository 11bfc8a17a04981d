// A real PostgreSQL (Debian's postgresql package) for notification tests: its own cluster made by initdb in a
// temporary folder, with a password (scram-sha-256) for the user `cairn`, listening on a free loopback port. It
// can be stopped and started again on the same port (a target that is down for a while). PostgreSQL refuses to
// run as root: a test running as root runs it as the package's `postgres` user. Ready once it logs so.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PG_LIB = '/usr/lib/postgresql';

/** The folder of PostgreSQL's server programs (newest version installed), or undefined when there is none. */
export function postgresBinDir(): string | undefined {
  if (!existsSync(PG_LIB)) return undefined;
  const versions = readdirSync(PG_LIB)
    .filter((v) => existsSync(join(PG_LIB, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(PG_LIB, versions[0], 'bin') : undefined;
}

/** uid/gid to run as: ours, or the `postgres` user's when we are root. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

export class PostgresServer {
  readonly user = 'cairn';
  /** With a space and a quote: connection strings must carry it through their quoting. */
  readonly password = "pass word's";
  readonly database = 'postgres';
  private child: ChildProcess | undefined;
  private dir = '';
  port = 0;

  /** tls: also accept TLS connections, with a self-signed certificate (libpq's sslmode=require takes it). */
  constructor(private readonly opts: { tls?: boolean } = {}) {}

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** libpq's key=value form, as MinIO's documentation writes it. */
  get connectionString(): string {
    const password = this.password.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
    return `host=127.0.0.1 port=${this.port} user=${this.user} password='${password}' dbname=${this.database} sslmode=disable`;
  }

  private options(): SpawnOptions {
    return { stdio: ['ignore', 'pipe', 'pipe'], ...runAs() };
  }

  async start(): Promise<void> {
    const bin = postgresBinDir();
    if (!bin) throw new Error('PostgreSQL is not installed (bash scripts/install-postgres.sh)');
    if (!this.dir) {
      this.dir = await mkdtemp(join(tmpdir(), 'cairn-postgres-'));
      const owner = runAs();
      if (owner) await chown(this.dir, owner.uid, owner.gid);
      const pwfile = join(this.dir, 'pw');
      await writeFile(pwfile, `${this.password}\n`);
      if (owner) await chown(pwfile, owner.uid, owner.gid);
      const initdb = [
        ...['-D', this.dataDir, '-U', this.user, `--pwfile=${pwfile}`, '--auth=scram-sha-256'],
        ...['-E', 'UTF8', '--locale=C', '--no-sync'],
      ];
      await this.run(join(bin, 'initdb'), initdb, (_out, code) =>
        code === undefined ? undefined : code === 0 ? true : `initdb exited with ${code}`,
      );
      if (this.opts.tls) await this.makeCertificate(owner);
    }
    if (!this.port) this.port = await freePort();
    const args = ['-D', this.dataDir, '-p', String(this.port), '-h', '127.0.0.1', '-k', this.dir];
    const certificate = [
      'ssl=on',
      `ssl_cert_file=${this.dataDir}/server.crt`,
      `ssl_key_file=${this.dataDir}/server.key`,
    ];
    const tls = this.opts.tls ? certificate.flatMap((c) => ['-c', c]) : [];
    await this.run(join(bin, 'postgres'), [...args, ...tls, '-c', 'fsync=off', '-c', 'logging_collector=off'], (out) =>
      out.includes('database system is ready to accept connections') ? true : undefined,
    );
  }

  /** server.crt and server.key in the data folder (PostgreSQL wants the key readable by its owner only). */
  private async makeCertificate(owner: { uid: number; gid: number } | undefined): Promise<void> {
    const files = ['server.crt', 'server.key'].map((f) => join(this.dataDir, f));
    const subject = ['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'];
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'].concat([
        '-days',
        '2',
        ...subject,
        '-out',
        files[0],
        '-keyout',
        files[1],
      ]),
      { stdio: 'ignore' },
    );
    for (const f of files) if (owner) await chown(f, owner.uid, owner.gid);
    await chmod(files[1], 0o600);
  }

  /**
   * Runs a program and resolves once `ready` says so (true) from its output or exit code; a string from
   * `ready`, or an exit before it said true, rejects with the output.
   */
  private run(
    program: string,
    args: string[],
    ready: (output: string, exitCode?: number | null) => true | string | undefined,
  ): Promise<void> {
    const child = spawn(program, args, { ...this.options(), cwd: this.dir });
    if (program.endsWith('postgres')) this.child = child;
    let out = '';
    return new Promise<void>((resolve, reject) => {
      const check = (code?: number | null) => {
        const r = ready(out, code);
        if (r === true) resolve();
        else if (typeof r === 'string') reject(new Error(`${r}: ${out}`));
        else if (code !== undefined) reject(new Error(`${program} exited with ${code}: ${out}`));
      };
      const collect = (d: Buffer) => {
        out += d.toString();
        check();
      };
      child.stdout?.on('data', collect);
      child.stderr?.on('data', collect);
      child.once('exit', (code) => check(code));
      child.once('error', reject);
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT'); // fast shutdown: clients are disconnected, the data is kept
    await exited;
  }

  async close(): Promise<void> {
    await this.stop();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
