// One node's table of dsync grants (dsync.ts): the names it granted, to which request id, refreshed when. A node
// of one process keeps it in its DsyncLocks; a node of several workers in its primary (primary.ts), which the
// workers' routes and their own calls reach over the IPC channel (primary-link.ts), so that the node grants a
// name to one request at a time whichever worker a call reaches.

import { parseDuration } from '../duration.js';

/** A grant not refreshed for this long is dropped, by default (DsyncOptions.expiryMs; the primary's table). */
export const LOCK_EXPIRY_MS = 30_000;
/**
 * The shortest expiry CAIRN_DSYNC_LOCK_EXPIRY may set: a holder refreshes every third of it and gives a lease up
 * after two refreshes a majority did not grant, each call waiting at most 2 s (dsync.ts), before the others' grants
 * expire.
 */
const MIN_LOCK_EXPIRY_MS = 10_000;

/**
 * CAIRN_DSYNC_LOCK_EXPIRY (a duration, `30s` by default; at least `10s`; the same on every node): how long a node
 * keeps a grant its holder stopped refreshing, so how long a killed node's locks and leader lease outlive it.
 * Cairn's (MinIO fixes it).
 */
export function lockExpiryFromEnv(env: NodeJS.ProcessEnv): number {
  const v = env.CAIRN_DSYNC_LOCK_EXPIRY;
  if (v === undefined || v === '') return LOCK_EXPIRY_MS;
  const ms = parseDuration(v);
  if (ms === undefined || ms < MIN_LOCK_EXPIRY_MS)
    throw new Error(`CAIRN_DSYNC_LOCK_EXPIRY must be a duration of at least 10s (such as 30s or 1m), got '${v}'`);
  return ms;
}
/** Request ids a table remembers as given back before they were granted (LockTable.givenBack). */
const MAX_GIVEN_BACK = 100_000;

interface Grant {
  uid: string;
  /** `<node name>[/w<worker>]/<boot id>` of the holder. */
  owner: string;
  since: number;
  refreshed: number;
}

export interface LockCall {
  name: string;
  uid: string;
  owner: string;
}

/** One node's grants. */
export class LockTable {
  private readonly grants = new Map<string, Grant>();
  /**
   * Request ids given back before this table granted them (their lock call arrives after the unlock sent in
   * its place), by the time heard, oldest first: such a lock is refused. Kept for `expiryMs` (a grant made
   * later would expire anyway), at most MAX_GIVEN_BACK of them.
   */
  private readonly givenBack = new Map<string, number>();

  constructor(
    private readonly expiryMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  lock(c: LockCall): boolean {
    const g = this.grants.get(c.name);
    const t = this.now();
    if (g && g.uid !== c.uid && t - g.refreshed < this.expiryMs) return false;
    if (this.givenBack.has(c.uid)) return false;
    this.grants.set(c.name, { uid: c.uid, owner: c.owner, since: g?.uid === c.uid ? g.since : t, refreshed: t });
    return true;
  }

  unlock(c: LockCall): boolean {
    if (this.grants.get(c.name)?.uid !== c.uid) {
      this.rememberGivenBack(c.uid);
      return false;
    }
    this.grants.delete(c.name);
    return true;
  }

  private rememberGivenBack(uid: string): void {
    const t = this.now();
    for (const [old, heard] of this.givenBack) {
      if (t - heard < this.expiryMs && this.givenBack.size < MAX_GIVEN_BACK) break;
      this.givenBack.delete(old);
    }
    this.givenBack.set(uid, t);
  }

  refresh(c: LockCall): boolean {
    const g = this.grants.get(c.name);
    if (g?.uid !== c.uid) return false;
    g.refreshed = this.now();
    return true;
  }

  /**
   * Drop the grants of `node`'s lives other than `owner` (it started again: it holds nothing of theirs). `node` is
   * a node (`node2`: its workers' grants too) or one worker of it (`node2/w1`).
   */
  forget(node: string, owner: string): void {
    for (const [name, g] of this.grants)
      if (g.owner !== owner && g.owner.startsWith(`${node}/`)) this.grants.delete(name);
  }

  held(): { name: string; uid: string; since: number }[] {
    const t = this.now();
    return [...this.grants.entries()]
      .filter(([, g]) => t - g.refreshed < this.expiryMs)
      .map(([name, g]) => ({ name, uid: g.uid, since: g.since }));
  }
}

/** One call to a table, by route name (`lock`, `unlock`, `refresh`, `held`, `forget`). */
export function tableCall(table: LockTable, route: string, body: unknown): unknown {
  const c = body as LockCall & { node: string };
  if (route === 'lock') return table.lock(c);
  if (route === 'unlock') return table.unlock(c);
  if (route === 'refresh') return table.refresh(c);
  if (route === 'held') return table.held();
  if (route === 'forget') return table.forget(c.node, c.owner);
  throw new Error(`no lock table route ${route}`);
}

export const TABLE_ROUTES = ['lock', 'unlock', 'refresh', 'held', 'forget'];
