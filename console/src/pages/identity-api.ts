// Cairn's IAM query API (the one `aws iam` speaks) as the identity pages use it.
import { isDenied, query } from '../client.js';
import { all, childText, text } from '../xml.js';

const iam = (params: Record<string, string>) => query('iam', params);

/** Whether this identity may list users (the Identity page shows only then). */
export async function mayManageIdentity(): Promise<boolean> {
  try {
    await iam({ Action: 'ListUsers', MaxItems: '1' });
    return true;
  } catch (e) {
    if (isDenied(e)) return false;
    throw e;
  }
}

export interface Named {
  name: string;
  arn: string;
}

export async function listUsers(): Promise<Named[]> {
  const doc = await iam({ Action: 'ListUsers' });
  return all(doc, 'member').map((m) => ({ name: childText(m, 'UserName'), arn: childText(m, 'Arn') }));
}

/** A new user and its first access key: the secret is in this answer only. */
export async function createUser(name: string): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  await iam({ Action: 'CreateUser', UserName: name });
  const doc = await iam({ Action: 'CreateAccessKey', UserName: name });
  return { accessKeyId: text(doc, 'AccessKeyId'), secretAccessKey: text(doc, 'SecretAccessKey') };
}

/** Deletes a user after what IAM requires gone first: its access keys, group memberships, policies. */
export async function deleteUser(name: string): Promise<void> {
  const keys = await iam({ Action: 'ListAccessKeys', UserName: name });
  for (const id of all(keys, 'AccessKeyId').map((e) => e.textContent ?? '')) {
    await iam({ Action: 'DeleteAccessKey', UserName: name, AccessKeyId: id });
  }
  const groups = await iam({ Action: 'ListGroupsForUser', UserName: name });
  for (const g of all(groups, 'GroupName').map((e) => e.textContent ?? '')) {
    await iam({ Action: 'RemoveUserFromGroup', UserName: name, GroupName: g });
  }
  const attached = await iam({ Action: 'ListAttachedUserPolicies', UserName: name });
  for (const arn of all(attached, 'PolicyArn').map((e) => e.textContent ?? '')) {
    await iam({ Action: 'DetachUserPolicy', UserName: name, PolicyArn: arn });
  }
  await iam({ Action: 'DeleteUser', UserName: name });
}

export async function listGroups(): Promise<Named[]> {
  const doc = await iam({ Action: 'ListGroups' });
  return all(doc, 'member').map((m) => ({ name: childText(m, 'GroupName'), arn: childText(m, 'Arn') }));
}

/** A group with its members and the managed policies attached to it. */
export interface Group extends Named {
  members: string[];
  policies: string[];
}

export async function listGroupsWithMembers(): Promise<Group[]> {
  const groups = await listGroups();
  return Promise.all(
    groups.map(async (g) => {
      const [members, attached] = await Promise.all([
        iam({ Action: 'GetGroup', GroupName: g.name }),
        iam({ Action: 'ListAttachedGroupPolicies', GroupName: g.name }),
      ]);
      return {
        ...g,
        members: all(members, 'UserName').map((e) => e.textContent ?? ''),
        policies: all(attached, 'PolicyName').map((e) => e.textContent ?? ''),
      };
    }),
  );
}

export async function createGroup(name: string): Promise<void> {
  await iam({ Action: 'CreateGroup', GroupName: name });
}

/** Deletes a group after what IAM requires gone first: its members, its attached policies. */
export async function deleteGroup(name: string): Promise<void> {
  const members = await iam({ Action: 'GetGroup', GroupName: name });
  for (const u of all(members, 'UserName').map((e) => e.textContent ?? '')) {
    await iam({ Action: 'RemoveUserFromGroup', UserName: u, GroupName: name });
  }
  const attached = await iam({ Action: 'ListAttachedGroupPolicies', GroupName: name });
  for (const arn of all(attached, 'PolicyArn').map((e) => e.textContent ?? '')) {
    await iam({ Action: 'DetachGroupPolicy', GroupName: name, PolicyArn: arn });
  }
  await iam({ Action: 'DeleteGroup', GroupName: name });
}

export async function addUserToGroup(user: string, group: string): Promise<void> {
  await iam({ Action: 'AddUserToGroup', UserName: user, GroupName: group });
}

export interface PolicyEntry extends Named {
  defaultVersion: string;
  attachments: number;
}

export async function listPolicies(): Promise<PolicyEntry[]> {
  const doc = await iam({ Action: 'ListPolicies' });
  return all(doc, 'member').map((m) => ({
    name: childText(m, 'PolicyName'),
    arn: childText(m, 'Arn'),
    defaultVersion: childText(m, 'DefaultVersionId'),
    attachments: Number(childText(m, 'AttachmentCount')),
  }));
}

export async function policyDocument(p: PolicyEntry): Promise<string> {
  const doc = await iam({ Action: 'GetPolicyVersion', PolicyArn: p.arn, VersionId: p.defaultVersion });
  return decodeURIComponent(text(doc, 'Document'));
}

export async function createPolicy(name: string, document: string): Promise<void> {
  await iam({ Action: 'CreatePolicy', PolicyName: name, PolicyDocument: document });
}

export async function deletePolicy(arn: string): Promise<void> {
  await iam({ Action: 'DeletePolicy', PolicyArn: arn });
}

export async function attachPolicy(kind: 'User' | 'Group', name: string, arn: string): Promise<void> {
  await iam({ Action: `Attach${kind}Policy`, [`${kind}Name`]: name, PolicyArn: arn });
}
