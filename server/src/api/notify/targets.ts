// Notification targets as MinIO configures them, with the CAIRN_ prefix: CAIRN_NOTIFY_<TYPE>_<SETTING>_<ID>
// (no _<ID>: the target `_`), e.g. CAIRN_NOTIFY_WEBHOOK_ENABLE_1=on, CAIRN_NOTIFY_WEBHOOK_ENDPOINT_1=URL.
// A bucket names a target by the ARN arn:cairn:sqs::<ID>:<type>. Settings Cairn does not act on, and target
// types it cannot deliver to yet, are refused at start rather than ignored.

export type TargetType = 'webhook' | 'redis' | 'postgresql' | 'nats' | 'mqtt' | 'amqp' | 'kafka';

export interface TargetConfig {
  type: TargetType;
  id: string;
  /** Where the target's queue lives (CAIRN_NOTIFY_<TYPE>_QUEUE_DIR); default: the system area of a drive. */
  queueDir?: string;
  /** Events the queue holds at most (_QUEUE_LIMIT, default 100,000 as MinIO's). */
  queueLimit: number;
  /** The type's own settings, lower-cased names without the prefix (endpoint, auth_token, address, ...). */
  settings: Record<string, string>;
}

/** `<ID>:<type>`, the part of an ARN that names the target. */
export const targetKey = (t: Pick<TargetConfig, 'id' | 'type'>): string => `${t.id}:${t.type}`;

export const DEFAULT_QUEUE_LIMIT = 100_000;

/** The environment variable of one of a target's settings: `settingEnvName(t)('ADDRESS')`. */
export const settingEnvName =
  (t: Pick<TargetConfig, 'id' | 'type'>) =>
  (setting: string): string =>
    // MinIO's settings say POSTGRES for the target its ARNs call postgresql.
    `CAIRN_NOTIFY_${t.type === 'postgresql' ? 'POSTGRES' : t.type.toUpperCase()}_${setting}${t.id === '_' ? '' : `_${t.id}`}`;

const COMMON = ['ENABLE', 'QUEUE_DIR', 'QUEUE_LIMIT'];
// MinIO's settings of its message-bus targets (internal/event/target/{nats,mqtt,amqp}.go).
const NATS_SETTINGS = [
  ...['ADDRESS', 'SUBJECT', 'USERNAME', 'PASSWORD', 'TOKEN', 'USER_CREDENTIALS', 'NKEY_SEED', 'PING_INTERVAL'],
  ...['TLS', 'TLS_SKIP_VERIFY', 'TLS_HANDSHAKE_FIRST', 'CERT_AUTHORITY', 'CLIENT_CERT', 'CLIENT_KEY', 'JETSTREAM'],
  ...['STREAMING', 'STREAMING_CLUSTER_ID', 'STREAMING_ASYNC', 'STREAMING_MAX_PUB_ACKS_IN_FLIGHT'],
];
const MQTT_SETTINGS = ['BROKER', 'TOPIC', 'QOS', 'USERNAME', 'PASSWORD', 'RECONNECT_INTERVAL', 'KEEP_ALIVE_INTERVAL'];
const AMQP_SETTINGS = [
  ...['URL', 'EXCHANGE', 'EXCHANGE_TYPE', 'ROUTING_KEY', 'MANDATORY', 'IMMEDIATE', 'DURABLE', 'INTERNAL'],
  // MinIO's environment says PUBLISHING_CONFIRMS where its configuration says publisher_confirms.
  ...['NO_WAIT', 'AUTO_DELETED', 'DELIVERY_MODE', 'ARGUMENTS', 'PUBLISHER_CONFIRMS', 'PUBLISHING_CONFIRMS'],
];
/** The settings of each supported type; `required` must be set on an enabled target. */
const TYPES: Record<string, { type: TargetType; settings: string[]; required: string[] }> = {
  // MAX_WORKERS is Cairn's (MinIO sends to a webhook from a pool of GOMAXPROCS senders it does not configure).
  WEBHOOK: { type: 'webhook', settings: ['ENDPOINT', 'AUTH_TOKEN', 'MAX_WORKERS'], required: ['ENDPOINT'] },
  REDIS: { type: 'redis', settings: ['ADDRESS', 'KEY', 'FORMAT', 'PASSWORD', 'USER'], required: ['ADDRESS', 'KEY'] },
  // MinIO's ARN names this type `postgresql`.
  POSTGRES: {
    type: 'postgresql',
    settings: [
      ...['CONNECTION_STRING', 'TABLE', 'FORMAT', 'HOST', 'PORT', 'USERNAME', 'PASSWORD', 'DATABASE'],
      'MAX_OPEN_CONNECTIONS',
    ],
    required: ['TABLE'],
  },
  // NATS, MQTT and AMQP take all of MinIO's settings: the target refuses, by name, those it does not implement.
  NATS: { type: 'nats', settings: NATS_SETTINGS, required: ['ADDRESS', 'SUBJECT'] },
  MQTT: { type: 'mqtt', settings: MQTT_SETTINGS, required: ['BROKER', 'TOPIC'] },
  AMQP: { type: 'amqp', settings: AMQP_SETTINGS, required: ['URL'] },
  KAFKA: {
    type: 'kafka',
    settings: [
      ...['BROKERS', 'TOPIC', 'TLS', 'TLS_SKIP_VERIFY', 'SASL', 'SASL_USERNAME', 'SASL_PASSWORD', 'SASL_MECHANISM'],
      'PRODUCER_COMPRESSION_CODEC',
    ],
    required: ['BROKERS', 'TOPIC'],
  },
};
/**
 * Each supported type's settings (upper-case, as in the environment), for the server configuration's registry
 * (api/admin/config): `notify_webhook endpoint=` is CAIRN_NOTIFY_WEBHOOK_ENDPOINT.
 */
export const NOTIFY_TYPES: { name: string; type: TargetType; settings: string[]; required: string[] }[] =
  Object.entries(TYPES).map(([name, t]) => ({
    name,
    type: t.type,
    settings: ['ENABLE', ...t.settings, 'QUEUE_DIR', 'QUEUE_LIMIT'],
    required: t.required,
  }));
/**
 * MinIO's settings Cairn does not implement: client certificates; for Kafka also the protocol version (kafkajs
 * negotiates it), batching and the compression level.
 */
const REFUSED: Record<string, string[]> = {
  WEBHOOK: ['CLIENT_CERT', 'CLIENT_KEY'],
  KAFKA: [
    ...['TLS_CLIENT_AUTH', 'CLIENT_TLS_CERT', 'CLIENT_TLS_KEY', 'VERSION', 'BATCH_SIZE', 'BATCH_COMMIT_TIMEOUT'],
    'PRODUCER_COMPRESSION_LEVEL',
  ],
};
/** MinIO's other target types: configuring one is an error until Cairn delivers to it. */
const UNSUPPORTED = ['ELASTICSEARCH', 'MYSQL', 'NSQ'];

const ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Splits `<SETTING>[_<ID>]` knowing the setting names (some contain `_`): the longest name that fits wins. */
function splitSetting(rest: string, names: string[]): { setting: string; id: string } | undefined {
  for (const n of [...names].sort((a, b) => b.length - a.length)) {
    if (rest === n) return { setting: n, id: '_' };
    if (rest.startsWith(`${n}_`)) return { setting: n, id: rest.slice(n.length + 1) };
  }
  return undefined;
}

/** An on/off setting (MinIO also takes true/false; empty is off); throws naming the variable otherwise. */
export function onOff(name: string, v: string): boolean {
  const s = v.toLowerCase();
  if (s === 'on' || s === 'true') return true;
  if (s === 'off' || s === 'false' || s === '') return false;
  throw new Error(`${name} must be on or off, got '${v}'`);
}

/** A `HOST[:PORT]` setting (an IPv6 host in brackets), as MinIO's ADDRESS settings; throws naming the variable. */
export function hostPort(name: string, v: string, defaultPort: number): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(v);
  const port = m?.[3] === undefined ? defaultPort : Number(m[3]);
  if (!m || port < 1 || port > 65535) throw new Error(`${name} must be HOST[:PORT], got '${v}'`);
  return { host: m[1] ?? m[2], port };
}

/** The enabled targets the environment configures; throws (the server refuses to start) on a bad setting. */
export function notifyTargetsFromEnv(env: NodeJS.ProcessEnv): TargetConfig[] {
  const found = new Map<string, { type: string; id: string; values: Record<string, string> }>();
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('CAIRN_NOTIFY_') || value === undefined) continue;
    const rest = name.slice('CAIRN_NOTIFY_'.length);
    const typeName = [...Object.keys(TYPES), ...UNSUPPORTED].find((t) => rest.startsWith(`${t}_`));
    if (typeName === undefined) throw new Error(`${name}: unknown notification target type`);
    const spec = TYPES[typeName];
    const names = [...COMMON, ...(spec?.settings ?? []), ...(REFUSED[typeName] ?? [])];
    const split = splitSetting(rest.slice(typeName.length + 1), spec ? names : ['ENABLE']);
    if (!split) {
      if (spec) throw new Error(`${name}: unknown setting of ${typeName.toLowerCase()} notification targets`);
      continue; // settings of an unsupported type matter only if it is enabled (refused below)
    }
    if (!ID.test(split.id)) throw new Error(`${name}: a target id is letters, digits, '-' and '_'`);
    const key = `${typeName}:${split.id}`;
    const t = found.get(key) ?? { type: typeName, id: split.id, values: {} };
    t.values[split.setting] = value;
    found.set(key, t);
  }
  const out: TargetConfig[] = [];
  for (const t of found.values()) {
    const envName = (s: string) => `CAIRN_NOTIFY_${t.type}_${s}${t.id === '_' ? '' : `_${t.id}`}`;
    if (!onOff(envName('ENABLE'), t.values.ENABLE ?? 'off')) continue;
    const spec = TYPES[t.type];
    if (!spec)
      throw new Error(`${envName('ENABLE')}: ${t.type.toLowerCase()} notification targets are not implemented`);
    for (const r of REFUSED[t.type] ?? []) if (t.values[r]) throw new Error(`${envName(r)} is not implemented`);
    for (const r of spec.required) if (!t.values[r]) throw new Error(`${envName(r)} must be set`);
    const limit = t.values.QUEUE_LIMIT;
    if (limit !== undefined && !/^[1-9]\d{0,8}$/.test(limit))
      throw new Error(`${envName('QUEUE_LIMIT')} must be a whole number > 0, got '${limit}'`);
    const settings: Record<string, string> = {};
    for (const s of spec.settings) if (t.values[s] !== undefined) settings[s.toLowerCase()] = t.values[s];
    out.push({
      type: spec.type,
      id: t.id,
      queueDir: t.values.QUEUE_DIR || undefined,
      queueLimit: limit === undefined ? DEFAULT_QUEUE_LIMIT : Number(limit),
      settings,
    });
  }
  return out;
}
