// "IAM changed": the one place a change to users, groups, policies, roles or service accounts is announced.
// In one process the store already holds the change, so nothing listens. With several worker processes (the
// invalidation bus of docs/ARCHITECTURE.md) a listener sends the change to the other workers, each of which
// calls `IamStore.reload(change)` to read that one record again from the drives.
import type { RecordKind } from './persist.js';

export interface IamChange {
  kind: RecordKind;
  /** The record's name (users, groups, policies, roles) or access key (service accounts). */
  id: string;
}

const listeners = new Set<(change: IamChange) => void>();

/** Called by the store after every change it made and stored. */
export function announceIamChange(change: IamChange): void {
  for (const l of listeners) l(change);
}

/** Subscribes to the changes this process makes; returns the unsubscribe function. */
export function onIamChange(listener: (change: IamChange) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
