// A userspace TCP proxy for partition tests: listens on a loopback port of its own and forwards each
// connection to a target port, byte for byte. `cut()` resets every connection it carries and every new one
// (the peer sees ECONNRESET, as when a link goes down and a firewall rejects); `drop()` black-holes it: nothing is
// forwarded any more and nothing is reset (connections open but never answer, as when a link or a firewall drops
// packets), so only the peers' own deadlines notice; `restore()` forwards again (what was held flows on).
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private cutOff = false;
  private dropping = false;
  private readonly open = new Set<Socket>();
  /** Connections carried, as [client, upstream] pairs (drop() stops their pipes). */
  private readonly pairs = new Set<[Socket, Socket]>();
  /** Connections made while dropping: accepted, never forwarded until restore(). */
  private readonly held = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly target: { port: number; host: string },
  ) {}

  static async start(targetPort: number, host = '127.0.0.1'): Promise<TcpProxy> {
    const server = createServer({ noDelay: true });
    server.listen(0, host);
    await once(server, 'listening');
    const proxy = new TcpProxy(server, (server.address() as { port: number }).port, { port: targetPort, host });
    server.on('connection', (client) => proxy.forward(client));
    return proxy;
  }

  private forward(client: Socket): void {
    if (this.cutOff) return void client.resetAndDestroy();
    if (this.dropping) {
      client.pause();
      this.held.add(client);
      client.once('close', () => this.held.delete(client));
      client.on('error', () => client.destroy());
      return;
    }
    const upstream = connect({ ...this.target, noDelay: true });
    for (const s of [client, upstream]) {
      this.open.add(s);
      s.once('close', () => this.open.delete(s));
    }
    // Either side failing or closing ends the pair (a refused target looks like a reset to the client).
    const end = () => {
      if (!client.destroyed) client.resetAndDestroy();
      if (!upstream.destroyed) upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    client.once('close', () => this.pairs.delete(pair));
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** The link drops every packet: nothing forwarded either way, nothing reset, new connections held unanswered. */
  drop(): void {
    this.dropping = true;
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  /** The link goes down: connections reset, new ones reset at once. */
  cut(): void {
    this.cutOff = true;
    for (const s of this.open) if (!s.destroyed) s.resetAndDestroy();
    this.open.clear();
  }

  /** The link is back (after a drop, what was held is forwarded). */
  restore(): void {
    this.cutOff = false;
    if (!this.dropping) return;
    this.dropping = false;
    for (const [client, upstream] of this.pairs) {
      client.pipe(upstream);
      upstream.pipe(client);
    }
    const held = [...this.held];
    this.held.clear();
    for (const client of held) {
      client.removeAllListeners('error');
      if (!client.destroyed) this.forward(client);
    }
  }

  async close(): Promise<void> {
    this.dropping = false;
    for (const c of this.held) c.destroy();
    this.held.clear();
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
