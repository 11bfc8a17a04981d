// LDAP / Active Directory as an identity provider (MinIO's AssumeRoleWithLDAPIdentity): the lookup account
// binds and finds the user's DN with the user filter, the user binds with their own password, then the lookup
// account finds the user's groups with the group filter. Policies are mapped to those DNs (ldapPolicies in
// store.ts); sts.ts turns the result into temporary credentials. The client is `ldapts`.
//
// Filters are templates: `%s` is the username and (group filter) `%d` the user's DN, both escaped as RFC 4515
// says, so a username like `*)(uid=*` is a literal value that matches no one.
import type { Client, ClientOptions } from 'ldapts';
import { S3Error } from '../../errors.js';
import type { LdapConfig } from './ldap-config.js';
import type { LoginLimiter } from './login-limit.js';

export { type LdapConfig, ldapConfigFromEnv } from './ldap-config.js';

/** An assertion value escaped per RFC 4515 section 3: `\`, `*`, `(`, `)` and NUL as `\XX`. */
export function escapeFilterValue(value: string): string {
  return value.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A filter template with `%s` and `%d` replaced by escaped values (one pass: a value is never re-read). */
export function fillFilter(template: string, username: string, userDn = ''): string {
  return template.replace(/%[sd]/g, (m) => escapeFilterValue(m === '%s' ? username : userDn));
}

/** A DN as mappings are keyed: lower-cased, without spaces around the separators. */
export function normalizeDn(dn: string): string {
  return dn
    .trim()
    .replace(/\s*([,=+])\s*/g, '$1')
    .toLowerCase();
}

export interface LdapIdentity {
  username: string;
  userDn: string;
  groupDns: string[];
}

const refused = () => new S3Error('AccessDenied', 'The LDAP username or password is not valid');

export class LdapProvider {
  /** `limiter`: failed logins per source address, counted across the processes serving the drives. */
  constructor(
    readonly config: LdapConfig,
    private readonly limiter: LoginLimiter,
  ) {}

  /** A new connection; ldapts is loaded on the first login (most servers have no LDAP). */
  private async client(): Promise<Client> {
    const { Client } = await import('ldapts');
    const c = this.config;
    const opts: ClientOptions = {
      url: `${c.serverInsecure ? 'ldap' : 'ldaps'}://${c.serverAddr}`,
      timeout: 10_000,
      connectTimeout: 10_000,
    };
    if (!c.serverInsecure) opts.tlsOptions = { rejectUnauthorized: !c.tlsSkipVerify };
    return new Client(opts);
  }

  /** Binds as the user and finds their groups; AccessDenied for anything but a valid username and password. */
  async authenticate(username: string, password: string, source: string): Promise<LdapIdentity> {
    // A source that failed too often lately is refused before the directory is asked anything.
    if (this.limiter.refused(source))
      throw new S3Error('AccessDenied', 'Too many failed LDAP logins from this address; try again later');
    try {
      // An empty password would be an unauthenticated bind (RFC 4513 5.1.2), which servers accept for any DN.
      if (username === '' || password === '' || username.length > 256 || password.length > 1024) throw refused();
      return await this.lookup(username, password);
    } catch (e) {
      await this.limiter.failed(source).catch(() => {}); // counted everywhere before the failure is answered
      throw e;
    }
  }

  private async lookup(username: string, password: string): Promise<LdapIdentity> {
    const c = this.config;
    const lookup = await this.client();
    try {
      await this.bindLookup(lookup);
      const { searchEntries } = await lookup.search(c.userDnSearchBaseDn, {
        scope: 'sub',
        filter: fillFilter(c.userDnSearchFilter, username),
        attributes: ['dn'],
        sizeLimit: 2,
      });
      // Exactly one entry, or no one: a filter that matches several users names none of them.
      if (searchEntries.length !== 1) throw refused();
      const userDn = searchEntries[0].dn;
      const user = await this.client();
      try {
        await user.bind(userDn, password);
      } catch {
        throw refused();
      } finally {
        await user.unbind().catch(() => {});
      }
      let groupDns: string[] = [];
      if (c.groupSearchBaseDn && c.groupSearchFilter) {
        const groups = await lookup.search(c.groupSearchBaseDn, {
          scope: 'sub',
          filter: fillFilter(c.groupSearchFilter, username, userDn),
          attributes: ['dn'],
          sizeLimit: 1000,
        });
        groupDns = groups.searchEntries.map((g) => g.dn);
      }
      return { username, userDn, groupDns };
    } finally {
      await lookup.unbind().catch(() => {});
    }
  }

  private async bindLookup(client: Client): Promise<void> {
    try {
      await client.bind(this.config.lookupBindDn, this.config.lookupBindPassword);
    } catch {
      // The lookup account's failure is the server's configuration, not the caller's: no secret in the message.
      throw new S3Error('InternalError', 'The LDAP lookup bind failed; check CAIRN_IDENTITY_LDAP_LOOKUP_BIND_*');
    }
  }
}
