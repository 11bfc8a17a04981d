// An account's canonical id, on its own so that the credentials reader (also run by a cluster's primary, which
// serves nothing) does not load the ACL and bucket-settings modules.
import { createHash } from 'node:crypto';

/** The default canonical user id of an access key (sha256 hex, as for the root in listings). */
export function canonicalId(accessKey: string): string {
  return createHash('sha256').update(accessKey).digest('hex');
}
