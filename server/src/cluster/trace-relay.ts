// Tracing across the workers: a worker with someone tracing tells the primary it wants entries; the primary tells
// every other worker to send theirs (and to stop once nobody wants them), and hands each entry to the workers
// that want it. While nobody traces, no worker builds or sends anything.
import type { Peer } from './coordinator.js';
import type { ToPrimary, ToWorker } from './protocol.js';

/** The primary's side. */
export class TraceRelay {
  private readonly peers = new Set<Peer>();
  private readonly wanting = new Set<Peer>();
  /** What each peer was last told: does some other worker want its entries? */
  private readonly told = new Map<Peer, boolean>();

  /** A worker said hello: it hears whether others want its entries. */
  join(peer: Peer): void {
    this.peers.add(peer);
    this.update();
  }

  leave(peer: Peer): void {
    this.peers.delete(peer);
    this.wanting.delete(peer);
    this.told.delete(peer);
    this.update();
  }

  /** Handles the trace messages; false for any other. */
  receive(peer: Peer, m: ToPrimary): boolean {
    if (m.t === 'trace-want') {
      if (m.on) this.wanting.add(peer);
      else this.wanting.delete(peer);
      this.update();
      return true;
    }
    if (m.t === 'trace') {
      for (const p of this.wanting) if (p !== peer) p.send({ t: 'trace', entry: m.entry });
      return true;
    }
    return false;
  }

  private update(): void {
    for (const p of this.peers) {
      const on = [...this.wanting].some((w) => w !== p);
      if (this.told.get(p) === on) continue;
      this.told.set(p, on);
      p.send({ t: 'trace-active', on });
    }
  }
}

/** A worker's side, over its channel to the primary (the shape api/admin/trace.ts's TraceSharing asks for). */
export function traceOverPrimary(channel: {
  send(m: ToPrimary): void;
  onMessage(handler: (m: ToWorker) => void): void;
}) {
  const receivers: ((entry: never) => void)[] = [];
  const activeListeners: ((on: boolean) => void)[] = [];
  channel.onMessage((m) => {
    if (m.t === 'trace') for (const r of receivers) r(m.entry as never);
    else if (m.t === 'trace-active') for (const l of activeListeners) l(m.on);
  });
  return {
    want: (on: boolean) => channel.send({ t: 'trace-want', on }),
    send: (entry: unknown) => channel.send({ t: 'trace', entry }),
    onEntry: <T>(receive: (entry: T) => void) => void receivers.push(receive as (entry: never) => void),
    onActive: (change: (on: boolean) => void) => void activeListeners.push(change),
  };
}
