// "IAM changed": how the store shares its records with the other processes serving the same drives
// (`cairn server --workers N`). Every change runs under one deployment-wide lock (`iam`), and before it
// is answered it goes on storage's change bus as a notice; each other process reads that record again from
// the drives (IamStore.reload) before the bus answers. So a user created, disabled or deleted through one
// worker is known to, or refused by, every worker for the next request, and a read-modify-write of records
// (manage.ts) never works from a copy another worker has changed since. A process alone shares nothing.
import type { ChangeBus, Locks, Release } from '../../storage/coordination.js';
import type { RecordKind } from './persist.js';

export interface IamChange {
  kind: RecordKind;
  /** The record's name (users, groups, policies, roles), access key (service accounts) or mapping id. */
  id: string;
}

export interface IamSharing {
  /** The deployment-wide lock of IAM changes. */
  lock(): Promise<Release>;
  /** Resolves once every other process has read the changed record again. */
  publish(change: IamChange): Promise<void>;
  /** The changes the other processes make; `reloadAll` when this process may have missed some. */
  subscribe(reload: (change: IamChange) => Promise<void>, reloadAll: () => Promise<void>): void;
}

/** One process with the drives to itself: its store holds every change already. */
export const iamAlone: IamSharing = {
  lock: () => Promise.resolve(() => {}),
  publish: () => Promise.resolve(),
  subscribe: () => {},
};

const TOPIC = 'iam';

/** Sharing over storage's lock service and change bus (the workers' IPC forms, or later the network's). */
export function iamOverBus(locks: Locks, bus: ChangeBus): IamSharing {
  return {
    lock: () => locks.acquire(TOPIC),
    publish: (change) => bus.publish({ type: 'notice', topic: TOPIC, data: change }),
    subscribe: (reload, reloadAll) =>
      bus.subscribe((c) => {
        if (c.type === 'missed') return reloadAll();
        if (c.type === 'notice' && c.topic === TOPIC) return reload(c.data as IamChange);
      }),
  };
}
