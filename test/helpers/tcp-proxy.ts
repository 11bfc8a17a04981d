// A userspace TCP proxy for partition tests: listens on a loopback port of its own and forwards each
// connection to a target port, byte for byte. `cut()` resets every connection it carries and every new one
// (the peer sees ECONNRESET, as when a link goes down and a firewall rejects); `restore()` forwards again.
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private cutOff = false;
  private readonly open = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number, host = '127.0.0.1'): Promise<TcpProxy> {
    const server = createServer({ noDelay: true });
    server.listen(0, host);
    await once(server, 'listening');
    const proxy = new TcpProxy(server, (server.address() as { port: number }).port);
    server.on('connection', (client) => proxy.forward(client, targetPort, host));
    return proxy;
  }

  private forward(client: Socket, targetPort: number, host: string): void {
    if (this.cutOff) return void client.resetAndDestroy();
    const upstream = connect({ port: targetPort, host, noDelay: true });
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
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** The link goes down: connections reset, new ones reset at once. */
  cut(): void {
    this.cutOff = true;
    for (const s of this.open) if (!s.destroyed) s.resetAndDestroy();
    this.open.clear();
  }

  /** The link is back. */
  restore(): void {
    this.cutOff = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
