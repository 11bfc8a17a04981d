// The primary's side of the lock service and the change bus: a table of named locks (first come, first
// served) and the relay of changes from one worker to all others, with the count of who has applied each.
// It knows nothing of processes: a peer is something with an id and a send(); primary.ts connects
// workers to it. A worker that leaves (exits, killed) drops its locks and its place in every relay.
// Worker threads lock in shared memory instead (shared-locks.ts): then the table here stays empty, and the
// locks held are gathered from every worker when asked (`gatherHeld`).
import type { HeldLock } from '../storage/index.js';
import type { ToPrimary, ToWorker } from './protocol.js';

export interface Peer {
  readonly slot: number;
  send(message: ToWorker): void;
}

interface Held {
  holder: Peer;
  /** When the holder got it (ms since the epoch). */
  since: number;
  waiting: { peer: Peer; id: number }[];
}

/** A locks-ask being answered from every worker's own list (threads with a shared table). */
interface HeldRound {
  asker: Peer;
  askerId: number;
  waiting: Set<Peer>;
  locks: HeldLock[];
  timer: NodeJS.Timeout;
}

/** How long a locks-ask waits for each worker's list. */
const HELD_ANSWER_MS = 2000;

interface Relay {
  from: Peer;
  id: number;
  /** Peers that have not applied the change yet. */
  waiting: Set<Peer>;
}

export class Coordinator {
  private readonly peers = new Set<Peer>();
  private readonly locks = new Map<string, Held>();
  private readonly relays = new Map<number, Relay>();
  private nextRelay = 1;
  private readonly heldRounds = new Map<number, HeldRound>();

  /** `gatherHeld`: the workers lock elsewhere (shared memory): a locks-ask asks each for what it holds. */
  constructor(private readonly gatherHeld = false) {}

  /** A worker that said hello: it takes locks and hears every change published from now on. */
  join(peer: Peer): void {
    this.peers.add(peer);
  }

  /** A worker is gone (after its process exited): its locks pass on, nobody waits for it any more. */
  leave(peer: Peer): void {
    this.peers.delete(peer);
    for (const [name, held] of this.locks) {
      held.waiting = held.waiting.filter((w) => w.peer !== peer);
      if (held.holder === peer) this.pass(name, held);
    }
    for (const [id, relay] of this.relays) {
      relay.waiting.delete(peer);
      if (relay.waiting.size === 0) this.finish(id, relay);
    }
    for (const [id, round] of this.heldRounds) {
      round.waiting.delete(peer);
      if (round.waiting.size === 0) this.finishHeld(id, round);
    }
  }

  receive(peer: Peer, m: ToPrimary): void {
    switch (m.t) {
      case 'lock': {
        const held = this.locks.get(m.name);
        if (held) held.waiting.push({ peer, id: m.id });
        else {
          this.locks.set(m.name, { holder: peer, since: Date.now(), waiting: [] });
          peer.send({ t: 'locked', id: m.id });
        }
        return;
      }
      case 'unlock': {
        const held = this.locks.get(m.name);
        if (held?.holder === peer) this.pass(m.name, held);
        return;
      }
      case 'publish': {
        const others = [...this.peers].filter((p) => p !== peer);
        if (others.length === 0) return peer.send({ t: 'published', id: m.id });
        const id = this.nextRelay++;
        this.relays.set(id, { from: peer, id: m.id, waiting: new Set(others) });
        for (const p of others) p.send({ t: 'change', id, change: m.change });
        return;
      }
      case 'locks-ask': {
        if (!this.gatherHeld) return peer.send({ t: 'locks-held', id: m.id, locks: this.held() });
        const id = this.nextRelay++;
        const timer = setTimeout(() => this.finishHeld(id, round), HELD_ANSWER_MS).unref();
        const round: HeldRound = { asker: peer, askerId: m.id, waiting: new Set(this.peers), locks: [], timer };
        this.heldRounds.set(id, round);
        for (const p of this.peers) p.send({ t: 'locks-list', id });
        return;
      }
      case 'locks-mine': {
        const round = this.heldRounds.get(m.id);
        if (!round?.waiting.delete(peer)) return;
        round.locks.push(...m.locks);
        if (round.waiting.size === 0) this.finishHeld(m.id, round);
        return;
      }
      case 'applied': {
        const relay = this.relays.get(m.id);
        if (!relay) return;
        relay.waiting.delete(peer);
        if (relay.waiting.size === 0) this.finish(m.id, relay);
        return;
      }
    }
  }

  /** Locks held and waited for, and changes still being applied (for tests and the status log). */
  get pending(): { locks: number; waiting: number; relays: number } {
    let waiting = 0;
    for (const h of this.locks.values()) waiting += h.waiting.length;
    return { locks: this.locks.size, waiting, relays: this.relays.size };
  }

  /** The locks held now (the admin API's top locks). */
  held(): HeldLock[] {
    return [...this.locks].map(([name, h]) => ({ name, since: h.since, waiting: h.waiting.length }));
  }

  private pass(name: string, held: Held): void {
    const next = held.waiting.shift();
    if (!next) return void this.locks.delete(name);
    held.holder = next.peer;
    held.since = Date.now();
    next.peer.send({ t: 'locked', id: next.id });
  }

  private finishHeld(id: number, round: HeldRound): void {
    if (!this.heldRounds.delete(id)) return;
    clearTimeout(round.timer);
    round.asker.send({ t: 'locks-held', id: round.askerId, locks: round.locks });
  }

  private finish(id: number, relay: Relay): void {
    this.relays.delete(id);
    if (this.peers.has(relay.from)) relay.from.send({ t: 'published', id: relay.id });
  }
}
