// A real Apache Kafka broker for notification tests: the jars scripts/install-kafka.sh resolves from Maven
// Central (.kafka/libs), run by Java in KRaft mode (one process as broker and controller) in a temporary folder,
// on free loopback ports: PLAINTEXT, SASL_PLAINTEXT with PLAIN and SCRAM-SHA-256 users, and SSL with a
// self-signed certificate (made by the openssl command) for 127.0.0.1. It can be stopped
// and started again on the same ports with its data (a target that is down for a while). Ready once it logs so.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LIBS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.kafka', 'libs');

/** Why no broker can run here (undefined: one can). */
export function kafkaMissing(): string | undefined {
  if (!existsSync(join(LIBS, 'kafka_2.13-3.9.1.jar')))
    return `no Kafka jars in ${LIBS} (bash scripts/install-kafka.sh)`;
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore' });
  } catch {
    return 'java is not installed';
  }
  return undefined;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** Small heap, quick start: a test broker holds a few hundred messages. */
const JAVA = ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-cp', `${LIBS}/*`];

export class KafkaBroker {
  /** SASL users: PLAIN and SCRAM-SHA-256 both know them. */
  readonly users = { alice: 'alice-secret' };
  private child: ChildProcess | undefined;
  private dir = '';
  port = 0;
  saslPort = 0;
  tlsPort = 0;
  private controllerPort = 0;

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get saslAddress(): string {
    return `127.0.0.1:${this.saslPort}`;
  }

  get tlsAddress(): string {
    return `127.0.0.1:${this.tlsPort}`;
  }

  private get properties(): string {
    return join(this.dir, 'server.properties');
  }

  async start(): Promise<void> {
    if (!this.dir) await this.create();
    const child = spawn(
      'java',
      [...JAVA, `-Dlog4j.configuration=file:${this.dir}/log4j.properties`, 'kafka.Kafka', this.properties],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    await this.output(child, 'Kafka Server started');
  }

  /** Configuration, and the storage formatted with the SCRAM users. */
  private async create(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'cairn-kafka-'));
    [this.port, this.saslPort, this.tlsPort, this.controllerPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    // The SSL listener's key and certificate in one PEM file (PKCS#8 key), as Kafka's PEM key store reads them.
    const key = join(this.dir, 'server.key');
    const cert = join(this.dir, 'server.crt');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1'].concat([
        ...['-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert],
      ]),
      { stdio: 'ignore' },
    );
    await writeFile(join(this.dir, 'server.pem'), `${await readFile(key, 'utf8')}${await readFile(cert, 'utf8')}`);
    const listeners = [
      `PLAINTEXT://127.0.0.1:${this.port}`,
      `SASL_PLAINTEXT://127.0.0.1:${this.saslPort}`,
      `SSL://127.0.0.1:${this.tlsPort}`,
    ].join(',');
    const plainUsers = Object.entries(this.users)
      .map(([u, p]) => `user_${u}="${p}"`)
      .join(' ');
    await writeFile(
      this.properties,
      [
        'process.roles=broker,controller',
        'node.id=1',
        `controller.quorum.voters=1@127.0.0.1:${this.controllerPort}`,
        `listeners=${listeners},CONTROLLER://127.0.0.1:${this.controllerPort}`,
        `advertised.listeners=${listeners}`,
        'controller.listener.names=CONTROLLER',
        'inter.broker.listener.name=PLAINTEXT',
        'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,CONTROLLER:PLAINTEXT',
        'listener.name.ssl.ssl.keystore.type=PEM',
        `listener.name.ssl.ssl.keystore.location=${join(this.dir, 'server.pem')}`,
        'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256',
        `listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`,
        'listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
        `log.dirs=${join(this.dir, 'data')}`,
        'num.partitions=1',
        'offsets.topic.replication.factor=1',
        'transaction.state.log.replication.factor=1',
        'transaction.state.log.min.isr=1',
        'group.initial.rebalance.delay.ms=0',
        '',
      ].join('\n'),
    );
    // The readiness line is INFO from KafkaRaftServer; everything else only when it goes wrong.
    await writeFile(
      join(this.dir, 'log4j.properties'),
      [
        'log4j.rootLogger=WARN, stdout',
        'log4j.logger.kafka.server.KafkaRaftServer=INFO',
        'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
        'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
        'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
        '',
      ].join('\n'),
    );
    const clusterId = randomBytes(16).toString('base64url');
    const scram = Object.entries(this.users).flatMap(([u, p]) => [
      '--add-scram',
      `SCRAM-SHA-256=[name=${u},password=${p}]`,
    ]);
    const format = spawn(
      'java',
      [...JAVA, `-Dlog4j.configuration=file:${this.dir}/log4j.properties`, 'kafka.tools.StorageTool', 'format'].concat([
        '-t',
        clusterId,
        '-c',
        this.properties,
        ...scram,
      ]),
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    await this.output(format, undefined);
  }

  /** Resolves once `line` appears in the output (undefined: once the program exits with 0). */
  private output(child: ChildProcess, line: string | undefined): Promise<void> {
    let out = '';
    return new Promise<void>((resolve, reject) => {
      const collect = (d: Buffer) => {
        out += d.toString();
        if (line !== undefined && out.includes(line)) resolve();
      };
      child.stdout?.on('data', collect);
      child.stderr?.on('data', collect);
      child.once('exit', (code) => {
        if (line === undefined && code === 0) resolve();
        else reject(new Error(`Kafka exited with ${code}: ${out}`));
      });
      child.once('error', reject);
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM'); // controlled shutdown, the data kept
    await exited;
  }

  async close(): Promise<void> {
    await this.stop();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
