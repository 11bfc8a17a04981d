// The server configuration's registry: every subsystem and key `cairn admin config` / MinIO's
// `*-config-kv` calls can set, with MinIO's names. Each key is also an environment variable
// (CAIRN_<SUBSYS>_<KEY>[_<TARGET>]: `api stale_uploads_expiry=` is CAIRN_API_STALE_UPLOADS_EXPIRY,
// `notify_webhook:1 endpoint=` is CAIRN_NOTIFY_WEBHOOK_ENDPOINT_1), which wins over the stored value.
// Only what Cairn acts on is here: MinIO's other subsystems and keys are refused, never stored and ignored.
// Stored values take effect when the server starts (main.ts reads them with the environment). Keys marked
// `live` also take effect at once, in every process (store.ts): the stale-upload settings, which storage reads at
// each round. The rest say `restart`, as MinIO's identity and notify subsystems do (its api subsystem is dynamic;
// Cairn's replication senders are started with their number, so replication_max_workers waits for a restart).
import { parseDuration } from '../../../duration.js';
import { replicationWorkersFromEnv } from '../../replication/replicator.js';
import { checkTargets } from '../../notify/target.js';
import { NOTIFY_TYPES, notifyTargetsFromEnv, onOff } from '../../notify/targets.js';
import { selectDialectFromEnv } from '../../select-dialect.js';
import { ldapConfigFromEnv } from '../../iam/ldap-config.js';
import { openIdConfigFromEnv } from '../../iam/openid-config.js';

export interface KeySpec {
  key: string;
  /** MinIO's help types: string, duration, number, on|off, uri, address, path, sentence. */
  type: string;
  description: string;
  /** The value in effect when neither the environment nor the stored configuration sets one ('' = none). */
  default: string;
  /** Shown as *redacted* by get-config-kv and in the history's listing; sealed where it is stored. */
  secret?: boolean;
  /** Throws a message naming what is wrong with a value of this key alone. */
  check?: (value: string) => void;
  /** Applied without a restart (main.ts's LiveConfig); absent: at the next start. */
  live?: boolean;
}

export interface SubsysSpec {
  name: string;
  description: string;
  /** Several named targets (`notify_webhook:ID`) besides the default one. */
  multipleTargets: boolean;
  keys: KeySpec[];
  /** Checks the configuration as the server would start with it (an environment view): throws a message. */
  validate?: (env: Record<string, string>) => void;
}

/** A target's name in the environment and the stored configuration; `_` is the default target. */
export const DEFAULT_TARGET = '_';
const TARGET_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const isTargetId = (id: string): boolean => TARGET_ID.test(id);

const duration = (value: string) => {
  if (parseDuration(value) === undefined) throw new Error(`'${value}' is not a duration such as 24h, 90m or 45s`);
};
const count = (value: string) => {
  if (!/^[1-9]\d{0,8}$/.test(value)) throw new Error(`'${value}' is not a whole number > 0`);
};
const onOffCheck = (value: string) => void onOff('the value', value);
// MinIO's validRegionRegex.
const regionCheck = (value: string) => {
  if (value !== '' && !/^[a-zA-Z][a-zA-Z0-9_-]{1,62}$/.test(value))
    throw new Error(`region name '${value}' is invalid`);
};

/** Secret settings of the notification targets (MinIO's Secret flag). */
const NOTIFY_SECRETS = new Set(['AUTH_TOKEN', 'PASSWORD', 'TOKEN', 'SASL_PASSWORD', 'NKEY_SEED', 'CONNECTION_STRING']);

function notifySubsystems(): SubsysSpec[] {
  return NOTIFY_TYPES.map((t) => ({
    name: `notify_${t.name.toLowerCase()}`,
    description: `publish bucket notifications to ${t.type} targets (ARN arn:cairn:sqs::<target>:${t.type})`,
    multipleTargets: true,
    keys: t.settings.map((s): KeySpec => {
      const key = s.toLowerCase();
      if (s === 'ENABLE')
        return { key, type: 'on|off', description: 'enable the target', default: 'off', check: onOffCheck };
      if (s === 'QUEUE_LIMIT')
        return { key, type: 'number', description: 'events the queue holds at most', default: '100000', check: count };
      if (s === 'MAX_WORKERS')
        return {
          key,
          type: 'number',
          description: 'events sent at once (1 to 500; those of one object one after the other)',
          default: '8',
          check: count,
        };
      if (s === 'QUEUE_DIR')
        return {
          key,
          type: 'path',
          description: "the queue's folder (default: the system area of the first three drives, each event on each)",
          default: '',
        };
      return {
        key,
        type: 'string',
        description: `${t.type} ${key.replaceAll('_', ' ')}${t.required.includes(s) ? ' (required)' : ''}`,
        default: '',
        // An AMQP URL carries the password.
        secret: NOTIFY_SECRETS.has(s) || (t.name === 'AMQP' && s === 'URL'),
      };
    }),
    // The targets as the server would make them at start (no connection is made).
    validate: (env) => checkTargets(notifyTargetsFromEnv(env)),
  }));
}

export const SUBSYSTEMS: SubsysSpec[] = [
  {
    name: 'region',
    description: 'the region the server reports to clients (--region wins)',
    multipleTargets: false,
    keys: [
      { key: 'name', type: 'string', description: 'region name, e.g. us-east-1', default: '', check: regionCheck },
    ],
  },
  {
    name: 'api',
    description: 'multipart upload expiry and replication senders',
    multipleTargets: false,
    keys: [
      {
        key: 'stale_uploads_expiry',
        type: 'duration',
        description: 'unfinished multipart uploads older than this are removed with their parts',
        default: '24h',
        check: duration,
        live: true,
      },
      {
        key: 'stale_uploads_cleanup_interval',
        type: 'duration',
        description: 'how often stale uploads are looked for (and lifecycle rules applied)',
        default: '6h',
        check: duration,
        live: true,
      },
      {
        key: 'replication_max_workers',
        type: 'number',
        description: 'senders per replication target in each worker (1 to 500)',
        default: '8',
      },
    ],
    validate: (env) => void replicationWorkersFromEnv(env),
  },
  {
    // Cairn's own (MinIO has no such setting): CAIRN_SELECT_DIALECT.
    name: 'select',
    description: 'S3 Select: the SQL dialect of requests that do not name one (x-cairn-dialect)',
    multipleTargets: false,
    keys: [
      {
        key: 'dialect',
        type: 'string',
        description: 'aws, cairn (DISTINCT, GROUP BY, ORDER BY) or ceph (Ceph s3select)',
        default: 'aws',
        check: (value) => void selectDialectFromEnv({ CAIRN_SELECT_DIALECT: value }),
      },
    ],
  },
  {
    name: 'identity_openid',
    description: 'OpenID Connect logins (STS AssumeRoleWithWebIdentity): one provider',
    multipleTargets: false,
    keys: [
      {
        key: 'enable',
        type: 'on|off',
        description: 'off: no provider, whatever the other keys say',
        default: '',
        check: onOffCheck,
      },
      {
        key: 'config_url',
        type: 'url',
        description: "the provider's /.well-known/openid-configuration (required)",
        default: '',
      },
      { key: 'client_id', type: 'string', description: 'the audience tokens must name (required)', default: '' },
      {
        key: 'client_secret',
        type: 'string',
        description: 'accepted (MinIO configurations carry it), not needed',
        default: '',
        secret: true,
      },
      {
        key: 'claim_name',
        type: 'string',
        description: 'the claim naming the policies of a login',
        default: 'policy',
      },
      { key: 'claim_prefix', type: 'string', description: "the claim name's prefix", default: '' },
      {
        key: 'role_policy',
        type: 'string',
        description: 'policies every login gets (comma-separated; clients send the role ARN the server logs)',
        default: '',
      },
      {
        key: 'scopes',
        type: 'string',
        description: "what the console's login asks for (comma-separated, with openid; default: the provider's)",
        default: '',
      },
      {
        key: 'display_name',
        type: 'string',
        description: "the console's login button names the provider so",
        default: '',
      },
    ],
    validate: (env) => void openIdConfigFromEnv(env),
  },
  {
    name: 'identity_ldap',
    description: 'LDAP logins (STS AssumeRoleWithLDAPIdentity)',
    multipleTargets: false,
    keys: [
      { key: 'server_addr', type: 'address', description: 'the LDAP server, host:port', default: '' },
      { key: 'lookup_bind_dn', type: 'string', description: 'DN of the account that looks users up', default: '' },
      {
        key: 'lookup_bind_password',
        type: 'string',
        description: "that account's password",
        default: '',
        secret: true,
      },
      { key: 'user_dn_search_base_dn', type: 'string', description: 'where users are looked up', default: '' },
      {
        key: 'user_dn_search_filter',
        type: 'string',
        description: 'the user filter, with %s for the username, e.g. (uid=%s)',
        default: '',
      },
      { key: 'group_search_base_dn', type: 'string', description: 'where groups are looked up', default: '' },
      {
        key: 'group_search_filter',
        type: 'string',
        description: 'the group filter, with %s (username) and/or %d (user DN)',
        default: '',
      },
      {
        key: 'server_insecure',
        type: 'on|off',
        description: 'plain LDAP, no TLS',
        default: 'off',
        check: onOffCheck,
      },
      {
        key: 'tls_skip_verify',
        type: 'on|off',
        description: "TLS without checking the server's certificate",
        default: 'off',
        check: onOffCheck,
      },
    ],
    validate: (env) => void ldapConfigFromEnv(env),
  },
  ...notifySubsystems(),
];

const BY_NAME = new Map(SUBSYSTEMS.map((s) => [s.name, s]));

export const subsysSpec = (name: string): SubsysSpec | undefined => BY_NAME.get(name);

/** MinIO's subsystems Cairn does not implement (said so, rather than "unknown"). */
export const MINIO_ONLY = new Set([
  'site',
  'scanner',
  'heal',
  'storage_class',
  'compression',
  'etcd',
  'identity_tls',
  'identity_plugin',
  'policy_plugin',
  'logger_webhook',
  'audit_webhook',
  'audit_kafka',
  'notify_elasticsearch',
  'notify_mysql',
  'notify_nsq',
  'lambda_webhook',
  'subnet',
  'callhome',
  'drive',
  'batch',
  'browser',
  'ilm',
  'cache',
  'credentials',
  'policy_opa',
]);

/** CAIRN_<SUBSYS>_<KEY>[_<TARGET>]: the environment variable of a key (notify targets as targets.ts names them). */
export const envName = (subsys: string, target: string, key: string): string =>
  `CAIRN_${subsys.toUpperCase()}_${key.toUpperCase()}${target === DEFAULT_TARGET ? '' : `_${target}`}`;

/** The targets the environment configures for a subsystem (the default one `_` included when it sets a key). */
export function envTargets(spec: SubsysSpec, env: NodeJS.ProcessEnv): Set<string> {
  const prefix = `CAIRN_${spec.name.toUpperCase()}_`;
  const keys = spec.keys.map((k) => k.key.toUpperCase()).sort((a, b) => b.length - a.length);
  const found = new Set<string>();
  for (const name of Object.keys(env)) {
    if (!name.startsWith(prefix)) continue;
    const rest = name.slice(prefix.length);
    for (const k of keys) {
      if (rest === k) found.add(DEFAULT_TARGET);
      else if (spec.multipleTargets && rest.startsWith(`${k}_`) && isTargetId(rest.slice(k.length + 1)))
        found.add(rest.slice(k.length + 1));
      else continue;
      break;
    }
  }
  return found;
}
