// Who may sign: the root user and the static users read from the environment (README "Credentials"), and
// the store the verifiers look keys up in. Account ids and names from a users file: test/s3/acl-accounts.test.ts.
import { describe, expect, it } from 'vitest';
import {
  credentialStore,
  credentialsFromEnv,
  DEV_ROOT_PASSWORD,
  DEV_ROOT_USER,
} from '../../src/http/auth/credentials.js';

const rejection = async (p: Promise<unknown>) => p.then(() => 'ok').catch((e: Error) => e.message);

describe('credentials from the environment', () => {
  it('without a root user: the documented development credentials, and a warning saying so', async () => {
    for (const env of [{}, { CAIRN_ROOT_USER: 'rootkey' }, { CAIRN_ROOT_PASSWORD: 'rootsecret' }]) {
      const warnings: string[] = [];
      const cfg = await credentialsFromEnv(env, warnings);
      expect(cfg.root).toEqual({ accessKey: DEV_ROOT_USER, secretKey: DEV_ROOT_PASSWORD });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(DEV_ROOT_USER);
    }
  });

  it('a root user of at least 3 characters with a password of at least 8, no warning', async () => {
    const warnings: string[] = [];
    const cfg = await credentialsFromEnv({ CAIRN_ROOT_USER: 'abc', CAIRN_ROOT_PASSWORD: '12345678' }, warnings);
    expect([cfg.root, cfg.users, warnings]).toEqual([{ accessKey: 'abc', secretKey: '12345678' }, [], []]);
    for (const env of [
      { CAIRN_ROOT_USER: 'ab', CAIRN_ROOT_PASSWORD: '12345678' },
      { CAIRN_ROOT_USER: 'abc', CAIRN_ROOT_PASSWORD: '1234567' },
    ]) {
      expect(await rejection(credentialsFromEnv(env))).toMatch(/at least/);
    }
  });

  it('CAIRN_USERS: accessKey:secretKey pairs, comma-separated, spaces and empty entries skipped', async () => {
    const root = { CAIRN_ROOT_USER: 'rootkey', CAIRN_ROOT_PASSWORD: 'rootsecret' };
    const cfg = await credentialsFromEnv({ ...root, CAIRN_USERS: ' ak1:sk1 ,, ak2:s:k2 ,' });
    expect(cfg.users).toEqual([
      { accessKey: 'ak1', secretKey: 'sk1' },
      { accessKey: 'ak2', secretKey: 's:k2' },
    ]);
    for (const bad of ['ak1', ':sk1', 'ak1:']) {
      expect(await rejection(credentialsFromEnv({ ...root, CAIRN_USERS: bad })), bad).toMatch(/CAIRN_USERS/);
    }
  });

  it('the store finds each user by access key; the root is marked, the others are not', () => {
    const store = credentialStore({
      root: { accessKey: 'rootkey', secretKey: 'rootsecret' },
      users: [{ accessKey: 'ak1', secretKey: 'sk1' }],
    });
    const root = store.lookup('rootkey');
    expect(root).toMatchObject({ accessKey: 'rootkey', secretKey: 'rootsecret' });
    expect(root?.caller.root).toBe(true);
    const user = store.lookup('ak1');
    expect(user).toMatchObject({ accessKey: 'ak1', secretKey: 'sk1' });
    expect(user?.caller.root).toBe(false);
    expect(store.lookup('AK1')).toBeUndefined();
    // Without IAM there are no temporary credentials: any session token is refused.
    expect(() => store.session('ak1', 'token')).toThrow(expect.objectContaining({ code: 'InvalidToken' }));
  });
});
