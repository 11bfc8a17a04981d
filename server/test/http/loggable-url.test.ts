// Request URLs as the request log writes them: credentials carried in the query string are left out.
import { describe, expect, it } from 'vitest';
import { loggableUrl } from '../../src/http/app.js';

describe('loggableUrl', () => {
  it('redacts session tokens and LDAP passwords, whatever their case, and keeps the rest', () => {
    expect(loggableUrl('/b/k?X-Amz-Security-Token=abc%2F&x-id=GetObject')).toBe(
      '/b/k?X-Amz-Security-Token=(redacted)&x-id=GetObject',
    );
    expect(loggableUrl('/?Action=AssumeRoleWithLDAPIdentity&LDAPUsername=alice&LDAPPassword=s3cret')).toBe(
      '/?Action=AssumeRoleWithLDAPIdentity&LDAPUsername=alice&LDAPPassword=(redacted)',
    );
  });
});
