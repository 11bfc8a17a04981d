// PostgreSQL target settings without a server: MinIO's names in the environment, table names (they are written
// into SQL, so only identifiers pass), and connection strings in libpq's two forms.
import { describe, expect, it } from 'vitest';
import { postgresConnection, validTableName } from '../../src/api/notify/postgres.js';
import { notifyTargetsFromEnv, settingEnvName } from '../../src/api/notify/targets.js';

const ENV = settingEnvName({ id: '1', type: 'postgresql' });

describe('PostgreSQL targets in the environment', () => {
  it("reads MinIO's settings, the ARN type being postgresql", () => {
    expect(
      notifyTargetsFromEnv({
        CAIRN_NOTIFY_POSTGRES_ENABLE_1: 'on',
        CAIRN_NOTIFY_POSTGRES_CONNECTION_STRING_1: 'host=db port=5432 dbname=events sslmode=disable',
        CAIRN_NOTIFY_POSTGRES_TABLE_1: 'bucketevents',
        CAIRN_NOTIFY_POSTGRES_FORMAT_1: 'access',
        CAIRN_NOTIFY_POSTGRES_MAX_OPEN_CONNECTIONS_1: '3',
        CAIRN_NOTIFY_POSTGRES_QUEUE_LIMIT_1: '50',
      }),
    ).toEqual([
      {
        type: 'postgresql',
        id: '1',
        queueLimit: 50,
        settings: {
          connection_string: 'host=db port=5432 dbname=events sslmode=disable',
          table: 'bucketevents',
          format: 'access',
          max_open_connections: '3',
        },
      },
    ]);
  });

  it.each([
    [{ CAIRN_NOTIFY_POSTGRES_ENABLE: 'on', CAIRN_NOTIFY_POSTGRES_PORT: '5432' }, /POSTGRES_TABLE must be set/],
    [{ CAIRN_NOTIFY_POSTGRES_SSLMODE_x: 'disable' }, /unknown setting of postgres/],
  ])('refuses %o', (env, message) => {
    expect(() => notifyTargetsFromEnv(env)).toThrow(message);
  });
});

describe('PostgreSQL table names', () => {
  it.each(['events', '_e$1', 'Événements', '"Access Events"', '"a;b--"'])('accepts %s', (name) => {
    expect(validTableName(name)).toBe(true);
  });
  it.each([
    '',
    '1events',
    '$e',
    'events;',
    'x; DROP TABLE y; --',
    'a b',
    'public.events',
    '"a"; DROP TABLE y; --"',
    '"a""b"',
    '""',
    '"a\nb"',
    'x'.repeat(64),
  ])('refuses %j', (name) => {
    expect(validTableName(name)).toBe(false);
  });
});

describe('PostgreSQL connection settings', () => {
  it("reads libpq's key=value form, quoted values and escapes included", () => {
    expect(
      postgresConnection(
        { connection_string: "host=db port=6543 user=u password='it\\'s a secret' dbname=ev sslmode=verify-full" },
        ENV,
      ),
    ).toEqual({
      host: 'db',
      port: 6543,
      user: 'u',
      password: "it's a secret",
      database: 'ev',
      ssl: { rejectUnauthorized: true },
      connectionTimeoutMillis: 10_000,
      application_name: undefined,
    });
  });

  it('reads a postgres:// URL; without sslmode, TLS as lib/pq (MinIO) does', () => {
    expect(
      postgresConnection({ connection_string: 'postgresql://u:p%40ss@[::1]:5433/my%20db?connect_timeout=3' }, ENV),
    ).toMatchObject({
      host: '::1',
      port: 5433,
      user: 'u',
      password: 'p@ss',
      database: 'my db',
      ssl: { rejectUnauthorized: false },
      connectionTimeoutMillis: 3000,
    });
  });

  it("reads MinIO's separate settings", () => {
    expect(
      postgresConnection({ host: 'h', port: '5432', username: 'u', password: 'p', database: 'd', table: 't' }, ENV),
    ).toMatchObject({ host: 'h', port: 5432, user: 'u', password: 'p', database: 'd' });
    expect(postgresConnection({ port: '5432', database: 'd' }, ENV).host).toBe('localhost');
  });

  it.each([
    [{ connection_string: 'host=h sslmode=allow' }, /sslmode 'allow' is not implemented/],
    [{ connection_string: 'host=h target_session_attrs=any' }, /'target_session_attrs' is not implemented/],
    [{ connection_string: 'postgres://h/db?sslcert=/c' }, /'sslcert' is not implemented/],
    [{ connection_string: 'host=h port=99999' }, /port must be a port number/],
    [{ connection_string: "host=h password='open" }, /unterminated quoted value/],
    [{ connection_string: 'hostonly' }, /has no '='/],
    [{ connection_string: 'host=h', username: 'u' }, /POSTGRES_USERNAME_1: set either CONNECTION_STRING or USERNAME/],
    [{ database: 'd' }, /POSTGRES_PORT_1 \(or CONNECTION_STRING\) must be set/],
    [{ port: 'x', database: 'd' }, /POSTGRES_PORT_1 must be a port number/],
  ])('refuses %o', (settings, message) => {
    expect(() => postgresConnection(settings, ENV)).toThrow(message);
  });

  it('never puts the password in an error', () => {
    expect(() => postgresConnection({ connection_string: "password='s3cr3t' bogus=1" }, ENV)).toThrow(/^(?!.*s3cr3t)/s);
  });
});
