// MinIO's server configuration calls (cmd/admin-handlers-config-kv.go), as minio-py's MinioAdmin config_*,
// madmin-go and `mc admin config` make them (and `cairn admin config`); every one needs admin:ConfigUpdate:
//   GET    get-config-kv?key=SUBSYS[:TARGET]     the settings as text, secrets redacted (answer encrypted)
//   PUT    set-config-kv                          body `subsys[:target] key=value ...` (encrypted)
//   DELETE del-config-kv                          body `subsys[:target] [key ...]`: back to the defaults (encrypted)
//   GET    help-config-kv?subSys=[&key=]          madmin.Help (plain JSON)
//   GET    list-config-history-kv?count=N         madmin.ConfigHistoryEntry[] (encrypted), secrets redacted
//   PUT    restore-config-history-kv?restoreId=   set an entry's change again
//   DELETE clear-config-history-kv?restoreId=ID|all
//   GET    config                                 every setting, secrets in clear (MinIO's export; encrypted)
//   PUT    config                                 replace the whole configuration (encrypted)
// Stored values apply at the next start; a change of live keys only (registry.ts) applies at once and its answer
// says `x-minio-config-applied: true` (MinIO's header: mc then says so instead of asking for a restart). The
// environment's CAIRN_* values win over stored ones.
import { S3Error } from '../../../errors.js';
import type { S3Response } from '../../types.js';
import type { ServerAdminCall } from '../index.js';
import { configError } from './kv.js';
import { envName, SUBSYSTEMS, subsysSpec } from './registry.js';

/** MinIO's maxEConfigJSONSize. */
const MAX_BODY = 262_272;

const PATHS = new Set([
  'get-config-kv',
  'set-config-kv',
  'del-config-kv',
  'help-config-kv',
  'list-config-history-kv',
  'restore-config-history-kv',
  'clear-config-history-kv',
  'config',
]);

export const isConfigPath = (path: string): boolean => PATHS.has(path);

const ok = (): S3Response => ({ status: 200, headers: {} });
const changed = (applied: boolean): S3Response =>
  applied ? { status: 200, headers: { 'x-minio-config-applied': 'true' } } : ok();

function method(c: ServerAdminCall, m: string): void {
  if (c.method !== m) throw new S3Error('MethodNotAllowed');
}

/** The request body opened with the signer's secret; MinIO's answers to a body too large or not opening. */
async function text(c: ServerAdminCall): Promise<string> {
  if (c.rawBody.length > MAX_BODY) throw new S3Error('XMinioAdminConfigTooLarge');
  try {
    return (await c.decrypt(c.rawBody)).toString('utf8');
  } catch {
    throw new S3Error('XMinioAdminConfigBadJSON');
  }
}

export async function configAdmin(c: ServerAdminCall): Promise<S3Response> {
  const config = c.admin.config;
  if (!config) throw new S3Error('NotImplemented', 'This server keeps no stored configuration');
  switch (c.path) {
    case 'get-config-kv':
      method(c, 'GET');
      c.authorize('admin:ConfigUpdate');
      return c.sealed(Buffer.from(await config.get(c.q.get('key') ?? '', true), 'utf8'));
    case 'set-config-kv':
      method(c, 'PUT');
      c.authorize('admin:ConfigUpdate');
      return changed(await config.set(await text(c)));
    case 'del-config-kv':
      method(c, 'DELETE');
      c.authorize('admin:ConfigUpdate');
      return changed(await config.reset(await text(c)));
    case 'help-config-kv':
      method(c, 'GET');
      c.authorize('admin:ConfigUpdate');
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(help(c.q.get('subSys') ?? '', c.q.get('key') ?? '')),
      };
    case 'list-config-history-kv': {
      method(c, 'GET');
      c.authorize('admin:ConfigUpdate');
      const count = c.q.get('count') ?? '';
      if (!/^-?\d{1,9}$/.test(count)) throw configError(`count '${count.slice(0, 20)}' is not a number`);
      return c.sealed(Buffer.from(JSON.stringify(await config.history(Number(count))), 'utf8'));
    }
    case 'restore-config-history-kv':
      method(c, 'PUT');
      c.authorize('admin:ConfigUpdate');
      return changed(await config.restore(restoreId(c)));
    case 'clear-config-history-kv':
      method(c, 'DELETE');
      c.authorize('admin:ConfigUpdate');
      await config.clearHistory(restoreId(c));
      return ok();
    default:
      if (c.method === 'GET') {
        c.authorize('admin:ConfigUpdate');
        return c.sealed(Buffer.from(await config.full(), 'utf8'));
      }
      method(c, 'PUT');
      c.authorize('admin:ConfigUpdate');
      await config.replace(await text(c));
      return ok();
  }
}

function restoreId(c: ServerAdminCall): string {
  const id = c.q.get('restoreId') ?? '';
  if (id === '') throw new S3Error('InvalidRequest', 'restoreId is required');
  return id;
}

/** madmin.Help, with Cairn's own fields (env, default, applies, secret) beside MinIO's. */
function help(subSys: string, key: string) {
  if (subSys === '') {
    return {
      subSys: '',
      description: 'sub-systems Cairn can configure',
      multipleTargets: false,
      keysHelp: SUBSYSTEMS.map((s) => ({
        key: s.name,
        type: 'string',
        description: s.description,
        optional: true,
        multipleTargets: s.multipleTargets,
      })),
    };
  }
  const spec = subsysSpec(subSys);
  if (!spec) throw configError(`unknown sub-system ${subSys.slice(0, 64)}`);
  const keys = key === '' ? spec.keys : spec.keys.filter((k) => k.key === key);
  if (keys.length === 0) throw configError(`unknown key '${key.slice(0, 64)}' of sub-system '${spec.name}'`);
  return {
    subSys: spec.name,
    description: spec.description,
    multipleTargets: spec.multipleTargets,
    keysHelp: keys.map((k) => ({
      key: k.key,
      type: k.type,
      description: k.description,
      optional: true,
      multipleTargets: false,
      env: envName(spec.name, '_', k.key) + (spec.multipleTargets ? '[_<target>]' : ''),
      default: k.default,
      secret: k.secret === true,
      applies: k.live ? 'live' : 'restart',
    })),
  };
}
