// `cairn admin config get|set|reset|history|restore|clear|help|export|import`: the stored server configuration
// through MinIO's *-config-kv calls (api/admin/config/admin.ts). get shows each key's stored value (or default)
// and the environment's value where it wins; a change applies when the server restarts, or at once when the server
// says so (x-minio-config-applied: live keys only).
import { readFile } from 'node:fs/promises';
import { styleText } from 'node:util';
import { parseLine } from '../api/admin/config/kv.js';
import { envName } from '../api/admin/config/registry.js';
import { adminCall, adminChange, adminText, type AdminTarget } from './admin-client.js';
import type { Result } from './admin-server.js';

export const CONFIG_USAGE = `  config get SUBSYS[:TARGET]    the settings (secrets redacted) and the environment's values that win
  config set SUBSYS[:TARGET] KEY=VALUE...   store settings (checked first; applied now or at the next restart)
  config reset SUBSYS[:TARGET] [KEY...]     back to the defaults
  config history [COUNT] | config restore ID | config clear ID|all   changes made, set one again, forget them
  config help [SUBSYS [KEY]]    the subsystems, their keys, defaults and environment variables
  config export | config import FILE        every setting as text (secrets in clear) / replace them all
`;

const RESTART = 'applies when the server restarts (cairn admin service restart)';
const when = (applied: boolean) => (applied ? 'applied now' : RESTART);
const yellow = (s: string) => styleText('yellow', s, { stream: process.stdout });

interface Help {
  keysHelp: { key: string; type: string; description: string; env?: string; default?: string }[];
}
interface HistoryEntry {
  restoreId: string;
  createTime: string;
  data: string;
}

/** get-config-kv's text as rows: one per key, with the environment's value where it is set. */
export function configRows(text: string): Record<string, string>[] {
  const env = new Map<string, string>();
  const rows: Record<string, string>[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('# ')) {
      const eq = line.indexOf('=');
      if (eq > 0) env.set(line.slice(2, eq), line.slice(eq + 1));
      continue;
    }
    if (line.trim() === '') continue;
    const l = parseLine(line, false);
    for (const { key, value } of l.pairs) {
      const fromEnv = env.get(envName(l.spec.name, l.target, key));
      rows.push({
        subsys: l.spec.name,
        target: l.target,
        key,
        value: value ?? '',
        ...(fromEnv !== undefined ? { env: fromEnv } : {}),
      });
    }
    env.clear();
  }
  return rows;
}

/** `key=value` arguments as one line of MinIO's text (values with spaces quoted). */
function setLine(head: string, pairs: string[]): string {
  const kvs = pairs.map((p) => {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new Error(`expected KEY=VALUE, got '${p}'`);
    const value = p.slice(eq + 1);
    return /\s/.test(value) ? `${p.slice(0, eq)}="${value}"` : p;
  });
  return [head, ...kvs].join(' ');
}

export async function configCommand(t: AdminTarget, args: string[], asJson: boolean): Promise<Result> {
  const [verb, ...rest] = args;
  switch (verb) {
    case 'get': {
      if (!rest[0]) throw new Error('expected: config get SUBSYS[:TARGET]');
      const text = await adminText(t, { method: 'GET', path: 'get-config-kv', query: { key: rest[0] }, decrypt: true });
      const rows = configRows(text);
      return { rows, columns: ['subsys', 'target', 'key', 'value', 'env'], paint: { env: yellow }, value: rows };
    }
    case 'set': {
      if (!rest[0] || rest.length < 2) throw new Error('expected: config set SUBSYS[:TARGET] KEY=VALUE...');
      const applied = await adminChange(t, {
        method: 'PUT',
        path: 'set-config-kv',
        body: setLine(rest[0], rest.slice(1)),
        encrypt: true,
      });
      return { done: `${rest[0]} set; ${when(applied)}` };
    }
    case 'reset': {
      if (!rest[0]) throw new Error('expected: config reset SUBSYS[:TARGET] [KEY...]');
      const reverted = await adminChange(t, {
        method: 'DELETE',
        path: 'del-config-kv',
        body: rest.join(' '),
        encrypt: true,
      });
      return { done: `${rest[0]} reset; ${when(reverted)}` };
    }
    case 'history': {
      const count = rest[0] ?? '10';
      const entries = (await adminCall(t, {
        method: 'GET',
        path: 'list-config-history-kv',
        query: { count },
        decrypt: true,
      })) as HistoryEntry[];
      const rows = entries.map((e) => ({ id: e.restoreId, time: e.createTime, change: e.data }));
      return { rows, columns: ['id', 'time', 'change'], value: entries };
    }
    case 'restore': {
      if (!rest[0]) throw new Error('expected: config restore ID');
      const again = await adminChange(t, {
        method: 'PUT',
        path: 'restore-config-history-kv',
        query: { restoreId: rest[0] },
      });
      return { done: `change ${rest[0]} set again; ${when(again)}` };
    }
    case 'clear':
      if (!rest[0]) throw new Error('expected: config clear ID|all');
      await adminText(t, { method: 'DELETE', path: 'clear-config-history-kv', query: { restoreId: rest[0] } });
      return { done: rest[0] === 'all' ? 'history cleared' : `history entry ${rest[0]} removed` };
    case 'help': {
      const query: Record<string, string> = { subSys: rest[0] ?? '', ...(rest[1] ? { key: rest[1] } : {}) };
      const h = (await adminCall(t, { method: 'GET', path: 'help-config-kv', query })) as Help;
      const rows = h.keysHelp.map((k) => ({
        key: k.key,
        type: k.type,
        default: k.default ?? '',
        env: k.env ?? '',
        description: k.description,
      }));
      const columns = rest[0] ? ['key', 'type', 'default', 'env', 'description'] : ['key', 'description'];
      return { rows, columns, value: h };
    }
    case 'export': {
      const text = await adminText(t, { method: 'GET', path: 'config', decrypt: true });
      return asJson ? { value: { config: text } } : { done: text.trimEnd() };
    }
    case 'import': {
      if (!rest[0]) throw new Error('expected: config import FILE');
      const body = await readFile(rest[0], 'utf8');
      await adminText(t, { method: 'PUT', path: 'config', body, encrypt: true });
      return { done: `configuration replaced; ${RESTART}` };
    }
    default:
      throw new Error('expected: config get|set|reset|history|restore|clear|help|export|import');
  }
}
