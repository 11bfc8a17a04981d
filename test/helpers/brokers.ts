// Real message brokers for the notification tests, each started by the test on free loopback ports in a folder of
// its own and stopped with it: Debian's nats-server (scripts/install-nats.sh), mosquitto (install-mosquitto.sh) and
// rabbitmq-server (install-rabbitmq.sh). A broker can be stopped and started again on the same port with the same
// data (a target that is down for a while); it is ready once it logs so.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/** The path of an installed program, or undefined. */
export function findProgram(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

interface Command {
  program: string;
  args: string[];
  env?: Record<string, string>;
  /** A line the broker logs (stdout or stderr) once it accepts connections. */
  ready: string;
}

/** One broker process: `command()` says how to run it once `dir` and `port` are chosen. */
abstract class BrokerProcess {
  private child: ChildProcess | undefined;
  dir = '';
  port = 0;

  protected abstract command(): Promise<Command>;

  /** Runs once, before the first start (ports, configuration files). */
  protected async prepare(): Promise<void> {}

  async start(): Promise<void> {
    if (!this.dir) {
      this.dir = await mkdtemp(join(tmpdir(), `cairn-${this.constructor.name.toLowerCase()}-`));
      this.port = await freePort();
      await this.prepare();
    }
    const { program, args, env, ready } = await this.command();
    const child = spawn(program, args, {
      cwd: this.dir,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const seen = (d: Buffer) => {
        out += d.toString();
        if (out.includes(ready)) resolve();
      };
      child.stdout!.on('data', seen);
      child.stderr!.on('data', seen);
      child.once('exit', (code) => reject(new Error(`${program} exited with ${code}: ${out.slice(-2000)}`)));
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  async close(): Promise<void> {
    await this.stop();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * nats-server, with JetStream (its store in the broker's folder) and, optionally, a user and password, or TLS with
 * a certificate and key (files).
 */
export class NatsServer extends BrokerProcess {
  constructor(
    private readonly auth?: { user: string; pass: string },
    private readonly tls?: { certFile: string; keyFile: string },
  ) {
    super();
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  protected async command(): Promise<Command> {
    const auth = this.auth ? ['--user', this.auth.user, '--pass', this.auth.pass] : [];
    if (this.tls) auth.push('--tls', '--tlscert', this.tls.certFile, '--tlskey', this.tls.keyFile);
    return {
      program: findProgram('nats-server') ?? 'nats-server',
      args: ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', join(this.dir, 'js'), ...auth],
      ready: 'Server is ready',
    };
  }
}

/** mosquitto with persistence (a subscriber's session and its queued messages survive a restart). */
export class Mosquitto extends BrokerProcess {
  constructor(private readonly auth?: { user: string; pass: string }) {
    super();
  }

  get url(): string {
    return `tcp://127.0.0.1:${this.port}`;
  }

  protected override async prepare(): Promise<void> {
    const lines = [
      `listener ${this.port} 127.0.0.1`,
      // Run as root (CI), mosquitto would switch to its own user, who cannot read this folder.
      `user ${userInfo().username}`,
      'persistence true',
      `persistence_location ${this.dir}/`,
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
    ];
    if (this.auth) {
      const file = join(this.dir, 'passwords');
      await writeFile(file, '');
      execFileSync(findProgram('mosquitto_passwd') ?? 'mosquitto_passwd', ['-b', file, this.auth.user, this.auth.pass]);
      lines.push('allow_anonymous false', `password_file ${file}`);
    } else {
      lines.push('allow_anonymous true');
    }
    await writeFile(join(this.dir, 'mosquitto.conf'), `${lines.join('\n')}\n`);
  }

  protected async command(): Promise<Command> {
    return {
      program: findProgram('mosquitto') ?? 'mosquitto',
      args: ['-c', join(this.dir, 'mosquitto.conf')],
      ready: ' running',
    };
  }
}

const RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';

/** Is RabbitMQ installed? (Debian's rabbitmq-server; its server script is run directly, as the test's user.) */
export const rabbitMqInstalled = (): boolean => findProgram(RABBITMQ_SERVER) !== undefined;

/**
 * rabbitmq-server as the test's user, with its own node name, configuration, data and Erlang port mapper (epmd) on
 * free ports: nothing is shared with a system RabbitMQ or another test. The user guest (password guest) may
 * connect over loopback. Takes about 5 s to start.
 */
export class RabbitMq extends BrokerProcess {
  private distPort = 0;
  private epmdPort = 0;

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  protected override async prepare(): Promise<void> {
    this.distPort = await freePort();
    this.epmdPort = await freePort();
    await writeFile(join(this.dir, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${this.port}\n`);
    await writeFile(join(this.dir, 'enabled_plugins'), '[].\n');
  }

  protected async command(): Promise<Command> {
    return {
      program: RABBITMQ_SERVER,
      args: [],
      env: {
        HOME: this.dir, // the Erlang cookie
        RABBITMQ_NODENAME: `cairn${this.port}@localhost`,
        RABBITMQ_NODE_PORT: String(this.port),
        RABBITMQ_DIST_PORT: String(this.distPort),
        ERL_EPMD_PORT: String(this.epmdPort),
        RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq.conf'),
        RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
        RABBITMQ_MNESIA_BASE: join(this.dir, 'mnesia'),
        RABBITMQ_LOG_BASE: join(this.dir, 'log'),
        RABBITMQ_LOGS: '-',
      },
      ready: 'Server startup complete',
    };
  }

  override async close(): Promise<void> {
    await this.stop();
    // The port mapper the node started stays behind as a daemon: stop it (it listens on this test's port only).
    if (this.epmdPort) {
      try {
        execFileSync(findProgram('epmd') ?? '/usr/lib/erlang/bin/epmd', ['-port', String(this.epmdPort), '-kill'], {
          stdio: 'ignore',
        });
      } catch {
        // already gone
      }
    }
    await super.close();
  }
}
