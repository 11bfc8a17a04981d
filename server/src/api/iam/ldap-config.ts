// The LDAP identity provider's settings from the environment (MinIO's names, CAIRN_ prefix). Kept apart from
// the client (ldap.ts, which loads ldapts) so the command line can check them in a process that never
// connects: the primary of a multi-worker server.
export interface LdapConfig {
  /** CAIRN_IDENTITY_LDAP_SERVER_ADDR: host:port. */
  serverAddr: string;
  lookupBindDn: string;
  lookupBindPassword: string;
  userDnSearchBaseDn: string;
  /** With `%s` for the username, e.g. `(uid=%s)`. */
  userDnSearchFilter: string;
  groupSearchBaseDn?: string;
  /** With `%s` (username) and/or `%d` (user DN), e.g. `(&(objectclass=groupOfNames)(member=%d))`. */
  groupSearchFilter?: string;
  /** Plain LDAP (no TLS): CAIRN_IDENTITY_LDAP_SERVER_INSECURE=on. */
  serverInsecure: boolean;
  /** TLS without checking the server's certificate: CAIRN_IDENTITY_LDAP_TLS_SKIP_VERIFY=on. */
  tlsSkipVerify: boolean;
}

const ENV = 'CAIRN_IDENTITY_LDAP_';
const onOff = (env: NodeJS.ProcessEnv, name: string): boolean => {
  const v = env[ENV + name];
  if (v === undefined || v === '' || v === 'off') return false;
  if (v === 'on') return true;
  throw new Error(`${ENV}${name} must be on or off`);
};

/** The LDAP settings of the environment, in MinIO's names; undefined when no server is configured. */
export function ldapConfigFromEnv(env: NodeJS.ProcessEnv): LdapConfig | undefined {
  const get = (name: string) => env[ENV + name] || undefined;
  const serverAddr = get('SERVER_ADDR');
  if (!serverAddr) return undefined;
  const required = (name: string) => {
    const v = get(name);
    if (v === undefined) throw new Error(`${ENV}${name} is required with ${ENV}SERVER_ADDR`);
    return v;
  };
  const cfg: LdapConfig = {
    serverAddr,
    lookupBindDn: required('LOOKUP_BIND_DN'),
    lookupBindPassword: required('LOOKUP_BIND_PASSWORD'),
    userDnSearchBaseDn: required('USER_DN_SEARCH_BASE_DN'),
    userDnSearchFilter: required('USER_DN_SEARCH_FILTER'),
    groupSearchBaseDn: get('GROUP_SEARCH_BASE_DN'),
    groupSearchFilter: get('GROUP_SEARCH_FILTER'),
    serverInsecure: onOff(env, 'SERVER_INSECURE'),
    tlsSkipVerify: onOff(env, 'TLS_SKIP_VERIFY'),
  };
  if (!cfg.userDnSearchFilter.includes('%s')) throw new Error(`${ENV}USER_DN_SEARCH_FILTER must contain %s`);
  if ((cfg.groupSearchBaseDn === undefined) !== (cfg.groupSearchFilter === undefined)) {
    throw new Error(`${ENV}GROUP_SEARCH_BASE_DN and ${ENV}GROUP_SEARCH_FILTER go together`);
  }
  for (const [name, dn] of [
    ['USER_DN_SEARCH_BASE_DN', cfg.userDnSearchBaseDn],
    ['GROUP_SEARCH_BASE_DN', cfg.groupSearchBaseDn],
  ] as const) {
    // MinIO accepts several base DNs separated by newlines; Cairn searches one.
    if (dn?.includes('\n')) throw new Error(`${ENV}${name}: several base DNs are not implemented`);
  }
  return cfg;
}
