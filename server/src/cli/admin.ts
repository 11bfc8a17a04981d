// `cairn admin user|group|policy|svcacct|idp ...`: IAM administration of a running server through MinIO's admin
// API (admin-client.ts), printing tables (or JSON with --json).
import { readFile } from 'node:fs/promises';
import { adminCall, type AdminTarget } from './admin-client.js';
import { TIER_USAGE, tierCommand } from './admin-tier.js';
import { REPLICATE_USAGE, replicateCommand } from './admin-replicate.js';
import { type Result, SERVER_USAGE, serverCommand, traceCommand } from './admin-server.js';
import { HEAL_USAGE, healCommand } from './admin-heal.js';
import { KMS_USAGE, kmsCommand } from './admin-kms.js';
import { CONFIG_USAGE, configCommand } from './admin-config.js';
import { QUOTA_USAGE, quotaCommand } from './admin-quota.js';
import { DECOMMISSION_USAGE, decommissionCommand } from './admin-decommission.js';
import { QUEUES_USAGE, queuesCommand } from './admin-queues.js';
import { prometheusToken } from '../http/metrics-auth.js';

export const ADMIN_USAGE = `Usage: cairn admin [--endpoint URL] [--json] COMMAND ...

${SERVER_USAGE}${HEAL_USAGE}  user add NAME SECRET          create a user (NAME is its access key) or set its secret
  user remove|enable|disable NAME
  user list | user info NAME
  group add GROUP USER...       add users to a group (made when needed)
  group remove GROUP [USER...]  remove users from a group, or the (empty) group itself
  group enable|disable GROUP | group list | group info GROUP
  policy create NAME FILE       create or replace a policy from a JSON document
  policy remove NAME | policy list | policy info NAME
  policy attach|detach POLICY... (--user NAME | --group NAME)
  svcacct add USER [--access-key AK --secret-key SK --policy FILE --name N --description D --expiry ISO-DATE]
  svcacct list USER | svcacct info AK | svcacct remove AK | svcacct enable|disable AK
  idp ldap policy attach|detach POLICY... (--user DN | --group DN)   map policies to LDAP users or groups
  idp openid list | idp openid info [NAME]   the configured OpenID provider (MinIO names it _) and its settings
  prometheus generate [cluster|node|bucket]   print a Prometheus scrape config with a bearer token (root credentials)
${QUEUES_USAGE}${TIER_USAGE}${REPLICATE_USAGE}${QUOTA_USAGE}${DECOMMISSION_USAGE}${KMS_USAGE}${CONFIG_USAGE}
The server: --endpoint or CAIRN_ENDPOINT (default http://127.0.0.1:9000); the credentials:
CAIRN_ACCESS_KEY / CAIRN_SECRET_KEY, else CAIRN_ROOT_USER / CAIRN_ROOT_PASSWORD. MinIO's canned policies
(readwrite, readonly, writeonly, diagnostics, consoleAdmin) are always there.
`;

type Row = Record<string, string>;

/** Columns padded to their widest cell; `paint` colours a column's cells (after padding, so columns stay aligned). */
export function table(rows: Row[], columns: string[], paint: Record<string, (cell: string) => string> = {}): string {
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[], painted: boolean) =>
    cells
      .map((x, i) => {
        const padded = x.padEnd(widths[i]);
        const p = painted ? paint[columns[i]] : undefined;
        return p ? p(padded) : padded;
      })
      .join('  ')
      .trimEnd();
  const head = line(
    columns.map((c) => c.toUpperCase()),
    false,
  );
  return [
    head,
    ...rows.map((r) =>
      line(
        columns.map((c) => r[c] ?? ''),
        true,
      ),
    ),
  ].join('\n');
}

/** Pulls `--name value` options out of an argument list. */
export function options(args: string[], names: string[]): { rest: string[]; opts: Record<string, string> } {
  const rest: string[] = [];
  const opts: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const n = args[i].startsWith('--') ? args[i].slice(2) : undefined;
    if (n !== undefined && names.includes(n)) {
      if (i + 1 >= args.length) throw new Error(`--${n} needs a value`);
      opts[n] = args[++i];
    } else rest.push(args[i]);
  }
  return { rest, opts };
}

const need = (v: string | undefined, what: string): string => {
  if (!v) throw new Error(`missing ${what}`);
  return v;
};

/** Maps policies to a user or group: the builtin IAM's (names) or LDAP's (DNs). */
async function attachDetach(t: AdminTarget, idp: 'builtin' | 'ldap', verb: string, args: string[]) {
  const { rest: policies, opts } = options(args, ['user', 'group']);
  if (!opts.user === !opts.group) throw new Error('name one of --user or --group');
  const body = {
    policies: policies.length ? policies : [need(undefined, 'POLICY')],
    ...(opts.user ? { user: opts.user } : { group: opts.group }),
  };
  await adminCall(t, { method: 'POST', path: `idp/${idp}/policy/${verb}`, body, encrypt: true, decrypt: true });
  return { done: `${policies.join(',')} ${verb}ed` };
}

/** A scrape job as `mc admin prometheus generate` prints it: the token is signed here, with the secret key. */
export async function prometheusConfig(t: AdminTarget, scope = 'cluster'): Promise<string> {
  if (scope !== 'cluster' && scope !== 'node' && scope !== 'bucket')
    throw new Error(`metrics type must be cluster, node or bucket, not ${scope}`);
  const url = new URL(t.endpoint);
  const token = await prometheusToken({ accessKey: t.accessKey, secretKey: t.secretKey });
  return [
    'scrape_configs:',
    '- job_name: cairn-job',
    `  bearer_token: ${token}`,
    `  metrics_path: /minio/v2/metrics/${scope}`,
    `  scheme: ${url.protocol.replace(':', '')}`,
    '  static_configs:',
    `  - targets: ['${url.host}']`,
  ].join('\n');
}

/** `idp openid list` and `idp openid info [NAME]` (MinIO's idp-config API; NAME defaults to `_`). */
async function openIdCommand(call: (c: Parameters<typeof adminCall>[1]) => Promise<unknown>, args: string[]) {
  const [verb, name = '_'] = args;
  if (verb === 'list') {
    type Item = { name: string; type: string; enabled: boolean; roleARN?: string };
    const items = (await call({ method: 'GET', path: 'idp-config/openid', decrypt: true })) as Item[];
    const rows = items.map((i) => ({ ...i, enabled: i.enabled ? 'on' : 'off', roleARN: i.roleARN ?? '' }));
    return { rows, columns: ['name', 'type', 'enabled', 'roleARN'], value: items };
  }
  if (verb !== 'info') throw new Error('expected: idp openid list | idp openid info [NAME]');
  const path = `idp-config/openid/${encodeURIComponent(name)}`;
  const config = (await call({ method: 'GET', path, decrypt: true })) as {
    info: { key: string; value: string; isEnv: boolean }[];
  };
  const rows = config.info.map((i) => ({ key: i.key, value: i.value, env: i.isEnv ? 'yes' : 'no' }));
  return { rows, columns: ['key', 'value', 'env'], value: config };
}

async function run(t: AdminTarget, args: string[], asJson: boolean): Promise<Result> {
  const [family, verb, ...rest] = args;
  const call = (c: Parameters<typeof adminCall>[1]) => adminCall(t, c);
  if (family === 'tier') return tierCommand(t, verb, rest);
  if (family === 'queues') {
    if (rest.length > 0) throw new Error('expected: queues [notify|replication]');
    return queuesCommand(t, verb);
  }
  if (family === 'replicate' && verb === 'status') {
    if (rest.length > 1) throw new Error('expected: replicate status [SRC_BUCKET]');
    return queuesCommand(t, 'replication', rest[0]);
  }
  if (family === 'replicate') return replicateCommand(t, verb, rest, asJson);
  if (family === 'quota') return quotaCommand(t, verb, rest);
  if (family === 'decommission') return decommissionCommand(t, verb, rest, asJson);
  const server = await serverCommand(t, family, verb, rest);
  if (server) return server;
  if (family === 'prometheus' && verb === 'generate') return { done: await prometheusConfig(t, rest[0]) };
  switch (`${family} ${verb}`) {
    case 'user add':
      await call({
        method: 'PUT',
        path: 'add-user',
        query: { accessKey: need(rest[0], 'NAME') },
        body: { secretKey: need(rest[1], 'SECRET'), status: 'enabled' },
        encrypt: true,
      });
      return { done: `user ${rest[0]} added` };
    case 'user remove':
      await call({ method: 'DELETE', path: 'remove-user', query: { accessKey: need(rest[0], 'NAME') } });
      return { done: `user ${rest[0]} removed` };
    case 'user enable':
    case 'user disable':
      await call({
        method: 'PUT',
        path: 'set-user-status',
        query: { accessKey: need(rest[0], 'NAME'), status: `${verb}d` },
      });
      return { done: `user ${rest[0]} ${verb}d` };
    case 'user list': {
      const users = (await call({ method: 'GET', path: 'list-users', decrypt: true })) as Record<
        string,
        Row & { memberOf?: string[] }
      >;
      const rows = Object.entries(users).map(([name, u]) => ({
        name,
        status: u.status,
        policies: u.policyName ?? '',
        groups: (u.memberOf ?? []).join(','),
      }));
      return { rows, columns: ['name', 'status', 'policies', 'groups'], value: users };
    }
    case 'user info':
      return { value: await call({ method: 'GET', path: 'user-info', query: { accessKey: need(rest[0], 'NAME') } }) };
    case 'group add':
      await call({
        method: 'PUT',
        path: 'update-group-members',
        body: { group: need(rest[0], 'GROUP'), members: rest.slice(1), isRemove: false },
      });
      return { done: `group ${rest[0]} updated` };
    case 'group remove':
      await call({
        method: 'PUT',
        path: 'update-group-members',
        body: { group: need(rest[0], 'GROUP'), members: rest.slice(1), isRemove: true },
      });
      return { done: rest.length > 1 ? `group ${rest[0]} updated` : `group ${rest[0]} removed` };
    case 'group enable':
    case 'group disable':
      await call({
        method: 'PUT',
        path: 'set-group-status',
        query: { group: need(rest[0], 'GROUP'), status: `${verb}d` },
      });
      return { done: `group ${rest[0]} ${verb}d` };
    case 'group list': {
      const names = (await call({ method: 'GET', path: 'groups' })) as string[];
      return { rows: names.map((name) => ({ name })), columns: ['name'], value: names };
    }
    case 'group info':
      return { value: await call({ method: 'GET', path: 'group', query: { group: need(rest[0], 'GROUP') } }) };
    case 'policy create': {
      const doc = await readFile(need(rest[1], 'FILE'), 'utf8');
      await call({ method: 'PUT', path: 'add-canned-policy', query: { name: need(rest[0], 'NAME') }, body: doc });
      return { done: `policy ${rest[0]} created` };
    }
    case 'policy remove':
      await call({ method: 'DELETE', path: 'remove-canned-policy', query: { name: need(rest[0], 'NAME') } });
      return { done: `policy ${rest[0]} removed` };
    case 'policy list': {
      const all = (await call({ method: 'GET', path: 'list-canned-policies' })) as Record<
        string,
        { Statement?: unknown[] }
      >;
      const rows = Object.entries(all).map(([name, p]) => ({ name, statements: String(p.Statement?.length ?? 0) }));
      return { rows, columns: ['name', 'statements'], value: all };
    }
    case 'policy info':
      return {
        value: await call({ method: 'GET', path: 'info-canned-policy', query: { name: need(rest[0], 'NAME') } }),
      };
    case 'policy attach':
    case 'policy detach':
      return attachDetach(t, 'builtin', verb, rest);
    case 'idp ldap': {
      const [what, action, ...more] = rest;
      if (what !== 'policy' || (action !== 'attach' && action !== 'detach'))
        throw new Error('expected: idp ldap policy attach|detach POLICY... (--user DN | --group DN)');
      return attachDetach(t, 'ldap', action, more);
    }
    case 'idp openid':
      return openIdCommand(call, rest);
    case 'svcacct add': {
      const { rest: pos, opts } = options(rest, [
        'access-key',
        'secret-key',
        'policy',
        'name',
        'description',
        'expiry',
      ]);
      const body: Record<string, unknown> = { targetUser: need(pos[0], 'USER') };
      if (opts['access-key']) body.accessKey = opts['access-key'];
      if (opts['secret-key']) body.secretKey = opts['secret-key'];
      if (opts.policy) body.policy = JSON.parse(await readFile(opts.policy, 'utf8'));
      if (opts.name) body.name = opts.name;
      if (opts.description) body.description = opts.description;
      if (opts.expiry) body.expiration = new Date(opts.expiry).toISOString();
      const r = (await call({ method: 'PUT', path: 'add-service-account', body, encrypt: true, decrypt: true })) as {
        credentials: Row;
      };
      return { rows: [r.credentials], columns: ['accessKey', 'secretKey', 'expiration'], value: r.credentials };
    }
    case 'svcacct list': {
      const r = (await call({
        method: 'GET',
        path: 'list-service-accounts',
        query: { user: need(rest[0], 'USER') },
        decrypt: true,
      })) as { accounts: Row[] };
      return { rows: r.accounts, columns: ['accessKey', 'accountStatus', 'name', 'expiration'], value: r.accounts };
    }
    case 'svcacct info':
      return {
        value: await call({
          method: 'GET',
          path: 'info-service-account',
          query: { accessKey: need(rest[0], 'AK') },
          decrypt: true,
        }),
      };
    case 'svcacct remove':
      await call({ method: 'DELETE', path: 'delete-service-account', query: { accessKey: need(rest[0], 'AK') } });
      return { done: `service account ${rest[0]} removed` };
    case 'svcacct enable':
    case 'svcacct disable':
      await call({
        method: 'POST',
        path: 'update-service-account',
        query: { accessKey: need(rest[0], 'AK') },
        body: { newStatus: verb === 'enable' ? 'on' : 'off' },
        encrypt: true,
      });
      return { done: `service account ${rest[0]} ${verb}d` };
    default:
      throw new Error(`unknown command: ${args.slice(0, 2).join(' ')}`);
  }
}

export async function adminCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { rest, opts } = options(
    argv.filter((a) => a !== '--json'),
    ['endpoint'],
  );
  const asJson = argv.includes('--json');
  if (rest.length === 0 || rest[0] === '--help' || rest[0] === 'help') {
    process.stdout.write(ADMIN_USAGE);
    return rest.length === 0 ? 2 : 0;
  }
  const target: AdminTarget = {
    endpoint: opts.endpoint ?? env.CAIRN_ENDPOINT ?? 'http://127.0.0.1:9000',
    accessKey: env.CAIRN_ACCESS_KEY ?? env.CAIRN_ROOT_USER ?? '',
    secretKey: env.CAIRN_SECRET_KEY ?? env.CAIRN_ROOT_PASSWORD ?? '',
    region: env.CAIRN_REGION ?? 'us-east-1',
  };
  if (!target.accessKey || !target.secretKey) {
    process.stderr.write(
      'cairn admin: set CAIRN_ACCESS_KEY / CAIRN_SECRET_KEY (or CAIRN_ROOT_USER / CAIRN_ROOT_PASSWORD)\n',
    );
    return 2;
  }
  try {
    if (rest[0] === 'trace') {
      await traceCommand(target, rest.slice(1), asJson);
      return 0;
    }
    const r =
      rest[0] === 'heal'
        ? await healCommand(target, rest.slice(1), asJson)
        : rest[0] === 'kms'
          ? await kmsCommand(target, rest.slice(1), asJson)
          : rest[0] === 'config'
            ? await configCommand(target, rest.slice(1), asJson)
            : await run(target, rest, asJson);
    if (asJson) process.stdout.write(`${JSON.stringify(r.value ?? { result: r.done }, null, 2)}\n`);
    else if (r.rows && r.columns) process.stdout.write(`${r.text ?? ''}${table(r.rows, r.columns, r.paint)}\n`);
    else if (r.value !== undefined) process.stdout.write(`${JSON.stringify(r.value, null, 2)}\n`);
    else process.stdout.write(`${r.done}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`cairn admin: ${(e as Error).message}\n`);
    return 1;
  }
}
