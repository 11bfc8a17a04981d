// The LDAP provider's pure parts: MinIO's settings read from the environment, RFC 4515 escaping of the values
// put into filter templates, DN normalization for policy mappings.
import { describe, expect, it } from 'vitest';
import { escapeFilterValue, fillFilter, ldapConfigFromEnv, normalizeDn } from '../../src/api/iam/ldap.js';

const BASE = {
  CAIRN_IDENTITY_LDAP_SERVER_ADDR: 'ldap.example.com:636',
  CAIRN_IDENTITY_LDAP_LOOKUP_BIND_DN: 'cn=lookup,dc=example,dc=com',
  CAIRN_IDENTITY_LDAP_LOOKUP_BIND_PASSWORD: 'pw',
  CAIRN_IDENTITY_LDAP_USER_DN_SEARCH_BASE_DN: 'ou=people,dc=example,dc=com',
  CAIRN_IDENTITY_LDAP_USER_DN_SEARCH_FILTER: '(uid=%s)',
};

describe('ldapConfigFromEnv', () => {
  it('is off without a server address, and reads every MinIO setting with the CAIRN_ prefix', () => {
    expect(ldapConfigFromEnv({})).toBeUndefined();
    expect(
      ldapConfigFromEnv({
        ...BASE,
        CAIRN_IDENTITY_LDAP_GROUP_SEARCH_BASE_DN: 'ou=groups,dc=example,dc=com',
        CAIRN_IDENTITY_LDAP_GROUP_SEARCH_FILTER: '(member=%d)',
        CAIRN_IDENTITY_LDAP_SERVER_INSECURE: 'on',
        CAIRN_IDENTITY_LDAP_TLS_SKIP_VERIFY: 'off',
      }),
    ).toEqual({
      serverAddr: 'ldap.example.com:636',
      lookupBindDn: 'cn=lookup,dc=example,dc=com',
      lookupBindPassword: 'pw',
      userDnSearchBaseDn: 'ou=people,dc=example,dc=com',
      userDnSearchFilter: '(uid=%s)',
      groupSearchBaseDn: 'ou=groups,dc=example,dc=com',
      groupSearchFilter: '(member=%d)',
      serverInsecure: true,
      tlsSkipVerify: false,
    });
  });

  it('refuses incomplete or unreadable settings instead of ignoring them', () => {
    const { CAIRN_IDENTITY_LDAP_LOOKUP_BIND_DN: _, ...noLookup } = BASE;
    expect(() => ldapConfigFromEnv(noLookup)).toThrow(/LOOKUP_BIND_DN is required/);
    expect(() => ldapConfigFromEnv({ ...BASE, CAIRN_IDENTITY_LDAP_USER_DN_SEARCH_FILTER: '(uid=alice)' })).toThrow(
      /must contain %s/,
    );
    expect(() => ldapConfigFromEnv({ ...BASE, CAIRN_IDENTITY_LDAP_SERVER_INSECURE: 'yes' })).toThrow(/on or off/);
    expect(() => ldapConfigFromEnv({ ...BASE, CAIRN_IDENTITY_LDAP_GROUP_SEARCH_FILTER: '(member=%d)' })).toThrow(
      /go together/,
    );
  });
});

describe('filter values', () => {
  it('escapes the characters RFC 4515 reserves, and nothing else', () => {
    expect(escapeFilterValue('*)(uid=*')).toBe('\\2a\\29\\28uid=\\2a');
    expect(escapeFilterValue('a\\b\0c')).toBe('a\\5cb\\00c');
    expect(escapeFilterValue("élodie.o'brien")).toBe("élodie.o'brien");
  });

  it('fills %s and %d in one pass: a value holding %d is not filled again', () => {
    expect(fillFilter('(&(uid=%s)(member=%d))', 'x%d', 'uid=a,dc=b')).toBe('(&(uid=x%d)(member=uid=a,dc=b))');
  });

  it('normalizes DNs for mappings', () => {
    expect(normalizeDn(' CN=Analysts, ou=Groups ,dc=example,dc=com ')).toBe('cn=analysts,ou=groups,dc=example,dc=com');
  });
});
