// The stored server configuration: `config/config.json` in the system bucket (through the ObjectLayer, like
// IAM's records and the tiers: erasure-coded, quorum-written, seen by every worker and node), sealed whole with
// a key derived from the root credentials (iam/seal.ts), and its history, one entry per change
// (`config/history/<restoreId>.json`: the text that was set, sealed too), as MinIO keeps them.
//
// The environment wins over a stored value (MinIO's rule): `envView()` is what the server starts with.
// A change is checked as the server would start with it (registry validators over that view) before it is
// stored; a refused change leaves the stored configuration as it was. A change of `live` keys only is applied at
// once: in this process, and in the others sharing the drives through a 'config' notice on the change bus (each
// reads the stored document again); the admin answer then says x-minio-config-applied.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { isS3Error, S3Error } from '../../../errors.js';
import type { ChangeBus, Release } from '../../../storage/coordination.js';
import { SYSTEM_BUCKET, type ObjectLayer } from '../../../storage/object-layer.js';
import type { Sealer } from '../../iam/seal.js';
import {
  configError,
  type KvLine,
  kvString,
  parseSubsys,
  parseText,
  REDACTED,
  renderLine,
  type Settings,
} from './kv.js';
import { DEFAULT_TARGET, envName, envTargets, SUBSYSTEMS, type SubsysSpec } from './registry.js';

const CONFIG_KEY = 'config/config.json';
const HISTORY_PREFIX = 'config/history/';
const FORMAT = 'cairn-config';
const VERSION = 1;
/** History entries kept: the oldest go when a change would make more. */
const HISTORY_MAX = 100;

/** How live keys are put into effect (main.ts), and the other processes to tell. */
export interface LiveConfig {
  /** Applies the live keys' values of this environment view in this process. */
  apply(view: Record<string, string>): void;
  /** The other workers and nodes (none: this process alone). */
  bus?: ChangeBus;
}

/** Every key a line touches is live (a line of no keys, a whole target's reset, touches them all). */
const allLive = (lines: KvLine[]): boolean =>
  lines.every((l) =>
    l.pairs.length > 0
      ? l.pairs.every((p) => l.spec.keys.find((k) => k.key === p.key)?.live === true)
      : l.spec.keys.every((k) => k.live === true),
  );

export interface HistoryEntry {
  restoreId: string;
  createTime: string;
  /** The text that was set, secret values redacted. */
  data: string;
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const notFound = (e: unknown) => isS3Error(e) && (e.code === 'NoSuchKey' || e.code === 'NoSuchVersion');

export class ServerConfig {
  /** One change at a time in this process. */
  private changing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly storage: ObjectLayer,
    private readonly sealer: Sealer,
    /** The process's environment: its CAIRN_* values win over stored ones. */
    private readonly env: NodeJS.ProcessEnv,
    private readonly warn: (message: string) => void = () => {},
    /** The lock every process sharing the drives takes to change the configuration (none: this process alone). */
    private readonly lock?: () => Promise<Release>,
    /** Where live keys are applied; absent: nothing is (every change waits for a restart). */
    private readonly live?: LiveConfig,
  ) {
    live?.bus?.subscribe(async (c) => {
      if (c.type === 'notice' && c.topic === 'config') live.apply(await this.envView());
    });
  }

  /** Applies a stored change at once when it touched live keys only; whether it did. */
  private async applyLive(lines: KvLine[]): Promise<boolean> {
    if (!this.live || !allLive(lines)) return false;
    this.live.apply(await this.envView());
    await this.live.bus?.publish({ type: 'notice', topic: 'config', data: null });
    return true;
  }

  private async readSealed(key: string): Promise<{ plain: string; createTime?: string } | undefined> {
    let raw: Buffer;
    try {
      raw = await readAll(await (await this.storage.openObject(SYSTEM_BUCKET, key)).read());
    } catch (e) {
      if (notFound(e)) return undefined;
      throw e;
    }
    const doc = JSON.parse(raw.toString('utf8')) as {
      format?: string;
      version?: number;
      sealed?: string;
      createTime?: string;
    };
    if (doc.format !== FORMAT || doc.version !== VERSION || typeof doc.sealed !== 'string')
      throw new S3Error('InternalError', `The stored ${key} has an unknown format`);
    const plain = this.sealer.open('config', Buffer.from(doc.sealed, 'base64'), key);
    if (plain === undefined) {
      this.warn(`server configuration: ${key} cannot be opened (root credentials changed?); it is ignored`);
      return undefined;
    }
    return { plain: plain.toString('utf8'), createTime: doc.createTime };
  }

  private async writeSealed(key: string, plain: string, createTime?: string): Promise<void> {
    const sealed = this.sealer.seal('config', Buffer.from(plain, 'utf8'), key).toString('base64');
    const body = Buffer.from(JSON.stringify({ format: FORMAT, version: VERSION, createTime, sealed }), 'utf8');
    await this.storage.putObject(SYSTEM_BUCKET, key, Readable.from([body]), {
      size: body.length,
      contentHeaders: { 'content-type': 'application/json' },
    });
  }

  /** The stored settings (none stored: empty). */
  async stored(): Promise<Settings> {
    const doc = await this.readSealed(CONFIG_KEY);
    return doc ? (JSON.parse(doc.plain) as Settings) : {};
  }

  /** The environment the server starts with: stored values as CAIRN_* variables, the process's own winning. */
  async envView(): Promise<Record<string, string>> {
    return viewOf(await this.stored(), this.env);
  }

  private change<T>(fn: (settings: Settings) => Promise<T>): Promise<T> {
    const run = this.changing.then(async () => {
      const release = await this.lock?.();
      try {
        return await fn(await this.stored());
      } finally {
        release?.();
      }
    });
    this.changing = run.catch(() => {});
    return run;
  }

  /** set-config-kv: the lines' keys set, checked, stored, written to the history; whether applied at once. */
  async set(text: string): Promise<boolean> {
    const lines = parseText(text, false);
    await this.change(async (settings) => {
      const next = apply(settings, lines, 'set');
      this.validate(next, lines);
      await this.writeSealed(CONFIG_KEY, JSON.stringify(next));
      await this.addHistory(lines.map((l) => renderLine(l, false)).join('\n'));
    });
    return this.applyLive(lines);
  }

  /** del-config-kv: a target (or some of its keys) back to the defaults; whether applied at once. */
  async reset(text: string): Promise<boolean> {
    const lines = parseText(text, true);
    await this.change(async (settings) => {
      const next = apply(settings, lines, 'reset');
      this.validate(next, lines);
      await this.writeSealed(CONFIG_KEY, JSON.stringify(next));
    });
    return this.applyLive(lines);
  }

  /** set-config: the whole configuration replaced by the text's lines (MinIO's import): applied at restart. */
  replace(text: string): Promise<void> {
    const lines = parseText(text, false);
    return this.change(async () => {
      const next = apply({}, lines, 'set');
      this.validate(next, lines);
      await this.writeSealed(CONFIG_KEY, JSON.stringify(next));
      await this.addHistory(lines.map((l) => renderLine(l, false)).join('\n'));
    });
  }

  /**
   * Each value alone, then each touched subsystem as the server would start with the result, and as it would
   * with the stored values winning (they must hold once the environment's are gone).
   */
  private validate(next: Settings, lines: KvLine[]): void {
    const views = [viewOf(next, this.env), { ...viewOf({}, this.env), ...viewOf(next, {}) }];
    const specs = new Set<SubsysSpec>(lines.map((l) => l.spec));
    for (const l of lines)
      for (const { key, value } of l.pairs) {
        const check = l.spec.keys.find((k) => k.key === key)?.check;
        if (value !== undefined && check) badConfig(() => check(value), `${l.spec.name} ${key}`);
      }
    for (const spec of specs)
      for (const view of views) if (spec.validate) badConfig(() => spec.validate!(view), spec.name);
  }

  /**
   * get-config-kv's text for `subsys`, `subsys:` (the default target) or `subsys:target`: for each target, the
   * environment's values as `# CAIRN_...=value` lines, then the stored values (defaults where none).
   */
  async get(key: string, redact: boolean): Promise<string> {
    if (key === '') throw configError('unknown sub-system ');
    const { spec, target } = parseSubsys(key, true);
    const all = key.includes(':') ? [target] : this.targets(spec, await this.stored());
    const settings = await this.stored();
    if (key.includes(':') && !this.targets(spec, settings).includes(target))
      throw configError(`there is no target \`${target}\` for subsystem \`${spec.name}\``);
    return all.map((t) => this.describe(spec, t, settings, redact)).join('');
  }

  /** get-config: every subsystem's targets, secrets in clear (MinIO's export for backups). */
  async full(): Promise<string> {
    const settings = await this.stored();
    return SUBSYSTEMS.flatMap((spec) =>
      this.targets(spec, settings).map((t) => this.describe(spec, t, settings, false)),
    ).join('');
  }

  /** The default target, then the stored and the environment's others, sorted. */
  private targets(spec: SubsysSpec, settings: Settings): string[] {
    const named = new Set([...Object.keys(settings[spec.name] ?? {}), ...envTargets(spec, this.env)]);
    named.delete(DEFAULT_TARGET);
    return [DEFAULT_TARGET, ...[...named].sort()];
  }

  private describe(spec: SubsysSpec, target: string, settings: Settings, redact: boolean): string {
    const stored = settings[spec.name]?.[target] ?? {};
    const shown = (secret: boolean | undefined, v: string) => (redact && secret && v !== '' ? REDACTED : v);
    let out = '';
    for (const k of spec.keys) {
      const name = envName(spec.name, target, k.key);
      const v = this.env[name];
      if (v !== undefined) out += `# ${name}=${shown(k.secret, v)}\n`;
    }
    const head = target === DEFAULT_TARGET ? spec.name : `${spec.name}:${target}`;
    const kvs = spec.keys.map((k) => kvString(k.key, shown(k.secret, stored[k.key] ?? k.default)));
    return `${out}${[head, ...kvs].join(' ')}\n`;
  }

  private async historyKeys(): Promise<string[]> {
    const keys: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.storage.listObjects(SYSTEM_BUCKET, { prefix: HISTORY_PREFIX, after, maxKeys: 1000 });
      keys.push(...page.objects.map((o) => o.key));
      if (!page.isTruncated || page.nextAfter === undefined) return keys;
      after = page.nextAfter;
    }
  }

  private async entries(): Promise<(HistoryEntry & { key: string; text: string })[]> {
    const out: (HistoryEntry & { key: string; text: string })[] = [];
    for (const key of await this.historyKeys()) {
      const doc = await this.readSealed(key);
      if (!doc) continue;
      const restoreId = key.slice(HISTORY_PREFIX.length, -'.json'.length);
      let data: string;
      try {
        data = parseText(doc.plain, false)
          .map((l) => renderLine(l, true))
          .join('\n');
      } catch {
        continue; // an entry of keys this version no longer has: not listed, not restorable
      }
      out.push({ key, restoreId, createTime: doc.createTime ?? '', data, text: doc.plain });
    }
    return out.sort((a, b) => a.createTime.localeCompare(b.createTime) || a.restoreId.localeCompare(b.restoreId));
  }

  private async addHistory(text: string): Promise<void> {
    await this.writeSealed(`${HISTORY_PREFIX}${randomUUID()}.json`, text, new Date().toISOString());
    const all = await this.entries();
    for (const old of all.slice(0, Math.max(0, all.length - HISTORY_MAX)))
      await this.storage.deleteObject(SYSTEM_BUCKET, old.key);
  }

  /** list-config-history-kv: the newest `count` changes (all when count <= 0), oldest first, secrets redacted. */
  async history(count: number): Promise<HistoryEntry[]> {
    const all = await this.entries();
    return (count > 0 ? all.slice(-count) : all).map(({ restoreId, createTime, data }) => ({
      restoreId,
      createTime,
      data,
    }));
  }

  private async entry(restoreId: string): Promise<HistoryEntry & { key: string; text: string }> {
    const found = /^[0-9a-f-]{36}$/.test(restoreId)
      ? (await this.entries()).find((e) => e.restoreId === restoreId)
      : undefined;
    if (!found) throw new S3Error('XMinioConfigError', `no config history entry ${restoreId.slice(0, 64)}`, {}, 404);
    return found;
  }

  /** restore-config-history-kv: the entry's change is set again (checked as a set is), and the entry goes. */
  async restore(restoreId: string): Promise<boolean> {
    const e = await this.entry(restoreId);
    const lines = parseText(e.text, false);
    await this.change(async (settings) => {
      const next = apply(settings, lines, 'set');
      this.validate(next, lines);
      await this.writeSealed(CONFIG_KEY, JSON.stringify(next));
    });
    await this.storage.deleteObject(SYSTEM_BUCKET, e.key);
    return this.applyLive(lines);
  }

  /** clear-config-history-kv: one entry, or `all`. */
  async clearHistory(restoreId: string): Promise<void> {
    const doomed = restoreId === 'all' ? await this.entries() : [await this.entry(restoreId)];
    for (const e of doomed) await this.storage.deleteObject(SYSTEM_BUCKET, e.key);
  }
}

/** Runs a check; its message becomes MinIO's XMinioAdminConfigBadJSON answer. */
function badConfig(check: () => void, what: string): void {
  try {
    check();
  } catch (e) {
    throw new S3Error('XMinioAdminConfigBadJSON', `${what}: ${(e as Error).message}`.slice(0, 300));
  }
}

/** A copy of `settings` with the lines set or reset. */
function apply(settings: Settings, lines: KvLine[], how: 'set' | 'reset'): Settings {
  const next: Settings = JSON.parse(JSON.stringify(settings)) as Settings;
  for (const l of lines) {
    const targets = (next[l.spec.name] ??= {});
    if (how === 'reset' && l.pairs.length === 0) {
      delete targets[l.target];
    } else {
      const kvs = (targets[l.target] ??= {});
      for (const { key, value } of l.pairs) {
        if (how === 'set') kvs[key] = value!;
        else delete kvs[key];
      }
      if (Object.keys(kvs).length === 0) delete targets[l.target];
    }
    if (Object.keys(targets).length === 0) delete next[l.spec.name];
  }
  return next;
}

/** Stored settings as CAIRN_* variables, under the process's own. */
export function viewOf(settings: Settings, env: NodeJS.ProcessEnv): Record<string, string> {
  const view: Record<string, string> = {};
  for (const [subsys, targets] of Object.entries(settings))
    for (const [target, kvs] of Object.entries(targets))
      for (const [key, value] of Object.entries(kvs)) view[envName(subsys, target, key)] = value;
  for (const [name, value] of Object.entries(env)) if (value !== undefined) view[name] = value;
  return view;
}
