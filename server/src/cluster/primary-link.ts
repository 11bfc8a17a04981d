// A worker's side of the lock service and the change bus (storage/coordination.ts) over the IPC channel
// to the primary. Requests for one lock name from this worker queue here first (an in-process mutex), so
// the primary sees at most one per worker and name. Changes from other workers are applied, then
// acknowledged; one that fails to apply is acknowledged anyway (the publisher must not wait forever).
import type { Change, ChangeBus, HeldLock, Locks, Release } from '../storage/index.js';
import { KeyedMutex } from '../storage/coordination.js';
import type { ToPrimary, ToWorker } from './protocol.js';

export interface Channel {
  send(message: ToPrimary): void;
  onMessage(handler: (message: ToWorker) => void): void;
}

export class PrimaryLink implements Locks, ChangeBus {
  private readonly local = new KeyedMutex();
  private readonly replies = new Map<number, (value?: unknown) => void>();
  private nextId = 1;
  private readonly subscribers: ((change: Change) => void | Promise<void>)[] = [];
  /** The locks this worker holds in a shared table (shared-locks.ts), for the primary's locks-list. */
  private heldHere: () => Promise<HeldLock[]> = () => Promise.resolve([]);

  constructor(
    private readonly channel: Channel,
    private readonly onApplyError: (e: unknown) => void = () => {},
  ) {
    channel.onMessage((m) => this.receive(m));
  }

  async acquire(name: string): Promise<Release> {
    const local = await this.local.acquire(name);
    await this.request((id) => ({ t: 'lock', id, name }));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.channel.send({ t: 'unlock', name });
      local();
    };
  }

  /** The primary's lock table is the whole server's. */
  held(): Promise<HeldLock[]> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.replies.set(id, (locks) => resolve((locks as HeldLock[] | undefined) ?? []));
      this.channel.send({ t: 'locks-ask', id });
    });
  }

  /** Where this worker's own held locks come from when its locks are a shared table's, not the primary's. */
  provideHeld(heldHere: () => Promise<HeldLock[]>): void {
    this.heldHere = heldHere;
  }

  /** A call to the node's dsync lock table, which the primary keeps (a node of a distributed deployment). */
  table(route: string, body: unknown): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.replies.set(id, resolve);
      this.channel.send({ t: 'table', id, route, body });
    });
  }

  publish(change: Change): Promise<void> {
    return this.request((id) => ({ t: 'publish', id, change }));
  }

  subscribe(apply: (change: Change) => void | Promise<void>): void {
    this.subscribers.push(apply);
  }

  private request(message: (id: number) => ToPrimary): Promise<void> {
    const id = this.nextId++;
    return new Promise<void>((resolve) => {
      this.replies.set(id, () => resolve());
      this.channel.send(message(id));
    });
  }

  private receive(m: ToWorker): void {
    if (m.t === 'locked' || m.t === 'published' || m.t === 'locks-held' || m.t === 'table-answer') {
      const reply = this.replies.get(m.id);
      this.replies.delete(m.id);
      reply?.(m.t === 'locks-held' ? m.locks : m.t === 'table-answer' ? m.value : undefined);
    } else if (m.t === 'locks-list') {
      const answer = (locks: HeldLock[]) => this.channel.send({ t: 'locks-mine', id: m.id, locks });
      this.heldHere().then(answer, () => answer([]));
    } else if (m.t === 'change') {
      const { id, change } = m;
      // Not subscribed yet (storage or IAM still opening): nothing there holds what changed yet. One
      // subscriber's failure does not keep the others from applying the change.
      Promise.all(
        this.subscribers.map((apply) =>
          new Promise<void>((resolve) => resolve(apply(change))).catch(this.onApplyError),
        ),
      ).finally(() => this.channel.send({ t: 'applied', id }));
    }
  }
}
