// The PostgreSQL target (pg), MinIO's settings and two formats: `namespace` keeps one row per object
// (key = <bucket>/<object>, value = {"Records":[...]}, upserted; the row is deleted with the object, also when
// a lifecycle rule expires it) and
// `access` inserts a row per event (event_time, event_data). The table is created with MinIO's schema when it
// is missing. Each send is one autocommitted statement: it resolves once PostgreSQL has committed the row, and
// any error (server down, table of another shape) throws, so the event stays queued and is sent again.
import type { Pool, PoolConfig } from 'pg';
import type { QueuedEvent, Target } from './target.js';

/** Where and how to connect (pg's pool settings), from CONNECTION_STRING or HOST/PORT/USERNAME/... */
export interface PostgresConnection {
  host: string;
  port: number;
  user?: string;
  password?: string;
  database?: string;
  ssl: false | { rejectUnauthorized: boolean; checkServerIdentity?: () => undefined };
  connectionTimeoutMillis?: number;
  application_name?: string;
}

const CONNECT_TIMEOUT_MS = 10_000;
/**
 * Events after which the object is gone: its namespace row goes too. MinIO deletes on ObjectRemoved:Delete only;
 * an object a lifecycle rule expired is gone as well (a delete marker hides the object but keeps the row).
 */
const REMOVES_OBJECT = new Set(['s3:ObjectRemoved:Delete', 's3:LifecycleExpiration:Delete']);
/** pg's own pool size, used when MAX_OPEN_CONNECTIONS is 0 (MinIO: no limit) or not set. */
const DEFAULT_MAX_CONNECTIONS = 10;

/**
 * The table name as MinIO accepts it: a plain identifier (letters, digits, `_`, `$`, not starting with a digit
 * or `$`; PostgreSQL folds it to lower case) or a quoted one (any characters but `"` and control characters).
 * It is written into SQL as it is, which is safe only because nothing else passes.
 */
export function validTableName(name: string): boolean {
  if (Buffer.byteLength(name) > 63 + (name.startsWith('"') ? 2 : 0)) return false; // NAMEDATALEN - 1
  if (/^"[^"\p{Cc}]+"$/u.test(name)) return true;
  return /^[\p{L}_][\p{L}\p{Nd}_$]*$/u.test(name);
}

/** sslmode as lib/pq (MinIO's driver) reads it; lib/pq's default is `require`. */
function sslFor(mode: string | undefined, env: (setting: string) => string): PostgresConnection['ssl'] {
  switch (mode ?? 'require') {
    case 'disable':
      return false;
    case 'require': // encrypted, the certificate not checked (libpq's meaning)
      return { rejectUnauthorized: false };
    case 'verify-ca':
      return { rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { rejectUnauthorized: true };
    default:
      throw new Error(
        `${env('CONNECTION_STRING')}: sslmode '${mode}' is not implemented (disable, require, verify-ca, verify-full)`,
      );
  }
}

/** The connection string's parameters Cairn acts on; any other is refused rather than ignored. */
const PARAMETERS = new Set([
  'host',
  'port',
  'user',
  'password',
  'dbname',
  'sslmode',
  'connect_timeout',
  'application_name',
]);

/** libpq's keyword/value form: `host=h port=5432 dbname='my db' password='it\'s'`. */
function keywordValues(s: string, env: (setting: string) => string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const skipSpaces = () => {
    while (i < s.length && /\s/.test(s[i])) i++;
  };
  for (skipSpaces(); i < s.length; skipSpaces()) {
    const eq = s.indexOf('=', i);
    // The text is not quoted in the message: it may be a piece of a password.
    if (eq < 0) throw new Error(`${env('CONNECTION_STRING')}: the text at offset ${i} has no '='`);
    const key = s.slice(i, eq).trim();
    i = eq + 1;
    skipSpaces();
    let value = '';
    if (s[i] === "'") {
      for (i++; i < s.length && s[i] !== "'"; i++) value += s[i] === '\\' ? (s[++i] ?? '') : s[i];
      if (s[i] !== "'") throw new Error(`${env('CONNECTION_STRING')}: unterminated quoted value of ${key}`);
      i++;
    } else {
      for (; i < s.length && !/\s/.test(s[i]); i++) value += s[i] === '\\' ? (s[++i] ?? '') : s[i];
    }
    out.set(key, value);
  }
  return out;
}

/** A postgres:// URL's parts as keyword/values. */
function urlValues(s: string, env: (setting: string) => string): Map<string, string> {
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new Error(`${env('CONNECTION_STRING')} is neither key=value pairs nor a postgres:// URL`);
  }
  const out = new Map<string, string>();
  if (url.hostname) out.set('host', decodeURIComponent(url.hostname.replace(/^\[(.*)\]$/, '$1')));
  if (url.port) out.set('port', url.port);
  if (url.username) out.set('user', decodeURIComponent(url.username));
  if (url.password) out.set('password', decodeURIComponent(url.password));
  if (url.pathname.length > 1) out.set('dbname', decodeURIComponent(url.pathname.slice(1)));
  for (const [k, v] of url.searchParams) out.set(k, v);
  return out;
}

function port(value: string, name: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 65535)
    throw new Error(`${name} must be a port number, got '${value}'`);
  return Number(value);
}

/**
 * The connection a target's settings describe: CONNECTION_STRING (libpq's key=value pairs or a postgres:// URL)
 * or, as MinIO, HOST (localhost), PORT and DATABASE (both required then), USERNAME, PASSWORD.
 */
export function postgresConnection(
  settings: Record<string, string>,
  env: (setting: string) => string,
): PostgresConnection {
  const cs = settings.connection_string?.trim();
  if (!cs) {
    if (!settings.port) throw new Error(`${env('PORT')} (or CONNECTION_STRING) must be set`);
    if (!settings.database) throw new Error(`${env('DATABASE')} (or CONNECTION_STRING) must be set`);
    return {
      host: settings.host || 'localhost',
      port: port(settings.port, env('PORT')),
      user: settings.username || undefined,
      password: settings.password || undefined,
      database: settings.database,
      ssl: sslFor(undefined, env),
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    };
  }
  for (const s of ['host', 'port', 'username', 'password', 'database'])
    if (settings[s]) throw new Error(`${env(s.toUpperCase())}: set either CONNECTION_STRING or ${s.toUpperCase()}`);
  const v = /^postgres(?:ql)?:\/\//.test(cs) ? urlValues(cs, env) : keywordValues(cs, env);
  for (const k of v.keys())
    if (!PARAMETERS.has(k)) throw new Error(`${env('CONNECTION_STRING')}: parameter '${k}' is not implemented`);
  const timeout = v.get('connect_timeout');
  if (timeout !== undefined && !/^\d{1,6}$/.test(timeout))
    throw new Error(`${env('CONNECTION_STRING')}: connect_timeout must be whole seconds, got '${timeout}'`);
  return {
    host: v.get('host') || 'localhost',
    port: v.has('port') ? port(v.get('port') as string, `${env('CONNECTION_STRING')}: port`) : 5432,
    user: v.get('user') || undefined,
    password: v.get('password') || undefined,
    database: v.get('dbname') || undefined,
    ssl: sslFor(v.get('sslmode'), env),
    // libpq: 0 waits for ever; Cairn's sender would then stall, so 0 keeps Cairn's bound.
    connectionTimeoutMillis: timeout && Number(timeout) > 0 ? Number(timeout) * 1000 : CONNECT_TIMEOUT_MS,
    application_name: v.get('application_name') || undefined,
  };
}

export class PostgresTarget implements Target {
  private readonly config: PoolConfig;
  /** Made on the first send: pg is loaded only by a server with a PostgreSQL target. */
  private pool: Promise<Pool> | undefined;
  private readonly table: string;
  private readonly format: 'namespace' | 'access';
  /** The table exists (created if it was missing); reset after a failure so the next send tries again. */
  private tableReady: Promise<void> | undefined;

  constructor(settings: Record<string, string>, env: (setting: string) => string) {
    if (!validTableName(settings.table))
      throw new Error(`${env('TABLE')}: '${settings.table}' is not a PostgreSQL table name (letters, digits, _, $)`);
    this.table = settings.table;
    const format = settings.format || 'namespace';
    if (format !== 'namespace' && format !== 'access')
      throw new Error(`${env('FORMAT')} must be namespace or access, got '${format}'`);
    this.format = format;
    const max = settings.max_open_connections;
    if (max !== undefined && !/^\d{1,4}$/.test(max))
      throw new Error(`${env('MAX_OPEN_CONNECTIONS')} must be a whole number >= 0, got '${max}'`);
    this.config = {
      ...postgresConnection(settings, env),
      max: max && Number(max) > 0 ? Number(max) : DEFAULT_MAX_CONNECTIONS,
    };
  }

  private async makePool(): Promise<Pool> {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool(this.config);
    // An idle connection the server closed: the next query opens another; without a listener it would throw.
    pool.on('error', () => {});
    return pool;
  }

  private query(text: string, values?: unknown[]): Promise<unknown> {
    return (this.pool ??= this.makePool()).then((pool) => pool.query(text, values));
  }

  private ensureTable(): Promise<void> {
    this.tableReady ??= this.createTable().catch((e: unknown) => {
      this.tableReady = undefined;
      throw e;
    });
    return this.tableReady;
  }

  private async createTable(): Promise<void> {
    const columns =
      this.format === 'namespace'
        ? 'key VARCHAR PRIMARY KEY, value JSONB'
        : 'event_time TIMESTAMP WITH TIME ZONE NOT NULL, event_data JSONB';
    try {
      await this.query(`CREATE TABLE IF NOT EXISTS ${this.table} (${columns})`);
    } catch (e) {
      // Two workers creating it at once: one wins, the other sees the row type already made (23505).
      if ((e as { code?: string }).code !== '23505') throw e;
    }
  }

  async send(e: QueuedEvent): Promise<void> {
    await this.ensureTable();
    const data = JSON.stringify({ Records: [e.record] });
    if (this.format === 'access') {
      await this.query(`INSERT INTO ${this.table} (event_time, event_data) VALUES ($1, $2)`, [
        e.record.eventTime,
        data,
      ]);
    } else if (REMOVES_OBJECT.has(e.eventName)) {
      await this.query(`DELETE FROM ${this.table} WHERE key = $1`, [e.key]);
    } else {
      await this.query(
        `INSERT INTO ${this.table} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
        [e.key, data],
      );
    }
  }

  async close(): Promise<void> {
    await (await this.pool)?.end();
  }
}
