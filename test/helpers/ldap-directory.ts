// The directory the LDAP tests log in against (a real slapd, helpers/slapd.ts): a lookup account Cairn binds as,
// alice (password alice-password, a member of the analysts group) and bob (bob-password, in no group). Its settings are given in each
// form Cairn takes them: ServerOptions.ldap, the CAIRN_IDENTITY_LDAP_* variables, and an identity_ldap config line.
import type { ServerOptions } from '@cairn/server';
import { startSlapd, type Slapd } from './slapd.js';

export const LDAP_SUFFIX = 'dc=example,dc=com';
export const LDAP_PEOPLE = `ou=people,${LDAP_SUFFIX}`;
export const LDAP_GROUPS = `ou=groups,${LDAP_SUFFIX}`;
export const LDAP_ALICE = `uid=alice,${LDAP_PEOPLE}`;
export const LDAP_ANALYSTS = `cn=analysts,${LDAP_GROUPS}`;
const LOOKUP_DN = `cn=lookup,${LDAP_SUFFIX}`;
const LOOKUP_PASSWORD = 'lookup-secret';

const ENTRIES = `dn: ${LDAP_SUFFIX}
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ${LDAP_PEOPLE}
objectClass: organizationalUnit
ou: people

dn: ${LDAP_GROUPS}
objectClass: organizationalUnit
ou: groups

dn: ${LOOKUP_DN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: lookup
userPassword: ${LOOKUP_PASSWORD}

dn: ${LDAP_ALICE}
objectClass: inetOrgPerson
uid: alice
cn: Alice
sn: Analyst
userPassword: alice-password

dn: uid=bob,${LDAP_PEOPLE}
objectClass: inetOrgPerson
uid: bob
cn: Bob
sn: Nobody
userPassword: bob-password

dn: ${LDAP_ANALYSTS}
objectClass: groupOfNames
cn: analysts
member: ${LDAP_ALICE}
`;

export interface LdapDirectory {
  slapd: Slapd;
  /** Users found by uid under ou=people, groups by member under ou=groups, plain LDAP (no TLS). */
  options: NonNullable<ServerOptions['ldap']>;
  /** The same as CAIRN_IDENTITY_LDAP_* variables. */
  env: Record<string, string>;
  /** The same as the identity_ldap line of the admin config API (users only: no group search). */
  configLine: string;
  stop(): Promise<void>;
}

/** Starts slapd with the test directory; `stop` ends it. */
export async function startLdapDirectory(): Promise<LdapDirectory> {
  const slapd = await startSlapd(ENTRIES, LDAP_SUFFIX);
  const userFilter = '(uid=%s)';
  const groupFilter = '(&(objectclass=groupOfNames)(member=%d))';
  return {
    slapd,
    options: {
      serverAddr: slapd.addr,
      lookupBindDn: LOOKUP_DN,
      lookupBindPassword: LOOKUP_PASSWORD,
      userDnSearchBaseDn: LDAP_PEOPLE,
      userDnSearchFilter: userFilter,
      groupSearchBaseDn: LDAP_GROUPS,
      groupSearchFilter: groupFilter,
      serverInsecure: true,
      tlsSkipVerify: false,
    },
    env: {
      CAIRN_IDENTITY_LDAP_SERVER_ADDR: slapd.addr,
      CAIRN_IDENTITY_LDAP_SERVER_INSECURE: 'on',
      CAIRN_IDENTITY_LDAP_LOOKUP_BIND_DN: LOOKUP_DN,
      CAIRN_IDENTITY_LDAP_LOOKUP_BIND_PASSWORD: LOOKUP_PASSWORD,
      CAIRN_IDENTITY_LDAP_USER_DN_SEARCH_BASE_DN: LDAP_PEOPLE,
      CAIRN_IDENTITY_LDAP_USER_DN_SEARCH_FILTER: userFilter,
      CAIRN_IDENTITY_LDAP_GROUP_SEARCH_BASE_DN: LDAP_GROUPS,
      CAIRN_IDENTITY_LDAP_GROUP_SEARCH_FILTER: groupFilter,
    },
    configLine:
      `identity_ldap server_addr=${slapd.addr} lookup_bind_dn=${LOOKUP_DN} lookup_bind_password=${LOOKUP_PASSWORD} ` +
      `user_dn_search_base_dn=${LDAP_PEOPLE} user_dn_search_filter=${userFilter} server_insecure=on`,
    stop: () => slapd.stop(),
  };
}
