// Tags of IAM users and roles (IAM User Guide: "Tagging IAM resources", "Controlling access to and for IAM users
// and roles using tags"): the checks IAM applies to them, and the condition keys they give identity policies.
// - An action on an existing user or role is judged with its tags as aws:ResourceTag/<key> and, under IAM's
//   older name for the same key, iam:ResourceTag/<key> (every action whose resource is that user or role).
// - A request that sets tags (CreateUser, CreateRole, TagUser, TagRole) is judged with aws:RequestTag/<key> and
//   aws:TagKeys; one that removes them (UntagUser, UntagRole) with aws:TagKeys.
// Keys compare without case and keep the case they were given: a user cannot hold both Team and team, and
// tagging it with team=x replaces Team (IAM: "Case sensitivity").
import { S3Error } from '../../errors.js';
import type { ConditionContext } from '../policy-conditions.js';

/** IAM's limits: 50 tags on a user or role, keys of 1 to 128 characters, values of up to 256. */
const MAX_TAGS = 50;
const MAX_KEY = 128;
const MAX_VALUE = 256;
/** Letters, numbers, white space and _ . : / = + - @ (IAM's pattern for tag keys and values). */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

const validation = (why: string) => new S3Error('ValidationError', why);

function checkKey(key: string, where: string): void {
  if ([...key].length < 1 || [...key].length > MAX_KEY || !TAG_TEXT.test(key)) {
    throw validation(`${where}: a tag key must be 1 to ${MAX_KEY} letters, numbers, spaces and _.:/=+-@`);
  }
}

/** `Tags.member.N.Key` / `.Value` of a request, checked, in the order given (undefined when there are none). */
export function requestedTags(p: URLSearchParams): Record<string, string> | undefined {
  const keys = new Map<number, string>();
  const values = new Map<number, string>();
  for (const [name, v] of p) {
    if (!name.startsWith('Tags.')) continue;
    const m = /^Tags\.member\.(\d{1,3})\.(Key|Value)$/.exec(name);
    if (!m) throw validation(`Unknown parameter ${name.slice(0, 64)}`);
    (m[2] === 'Key' ? keys : values).set(Number(m[1]), v);
  }
  if (keys.size === 0 && values.size === 0) return undefined;
  if (keys.size > MAX_TAGS) throw validation(`At most ${MAX_TAGS} tags can be passed`);
  const out: Record<string, string> = {};
  const seen = new Set<string>();
  for (const [n, key] of [...keys].sort((a, b) => a[0] - b[0])) {
    const value = values.get(n);
    if (value === undefined) throw validation(`Tags.member.${n} has a Key and no Value`);
    checkKey(key, `Tags.member.${n}.Key`);
    if ([...value].length > MAX_VALUE || !TAG_TEXT.test(value)) {
      throw validation(`Tags.member.${n}.Value must be up to ${MAX_VALUE} letters, numbers, spaces and _.:/=+-@`);
    }
    if (key.toLowerCase().startsWith('aws:')) throw new S3Error('InvalidInput', 'Tag keys cannot start with aws:');
    if (seen.has(key.toLowerCase())) {
      throw new S3Error('InvalidInput', 'Duplicate tag keys found. Please note that Tag keys are case insensitive.');
    }
    seen.add(key.toLowerCase());
    out[key] = value;
  }
  for (const n of values.keys()) if (!keys.has(n)) throw validation(`Tags.member.${n} has a Value and no Key`);
  return out;
}

/** `TagKeys.member.N` of UntagUser / UntagRole, checked. */
export function requestedTagKeys(p: URLSearchParams): string[] {
  const out: string[] = [];
  for (let i = 1; p.has(`TagKeys.member.${i}`); i++) {
    const key = p.get(`TagKeys.member.${i}`)!;
    checkKey(key, `TagKeys.member.${i}`);
    out.push(key);
  }
  if (out.length === 0) throw validation('The parameter TagKeys is required');
  if (out.length > MAX_TAGS) throw validation(`At most ${MAX_TAGS} tag keys can be passed`);
  return out;
}

/** A user's or role's tags after a TagUser/UntagUser (keys without case); over 50 is LimitExceeded. */
export function changedTags(
  current: Readonly<Record<string, string>>,
  set: Readonly<Record<string, string>>,
  remove: readonly string[],
): Record<string, string> {
  const gone = new Set([...Object.keys(set), ...remove].map((k) => k.toLowerCase()));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(current)) if (!gone.has(k.toLowerCase())) out[k] = v;
  Object.assign(out, set);
  if (Object.keys(out).length > MAX_TAGS)
    throw new S3Error('LimitExceeded', `Cannot exceed quota for tags: ${MAX_TAGS}`);
  return out;
}

/** aws:RequestTag/<key> and aws:TagKeys of a request that sets tags; aws:TagKeys alone for one removing them. */
export function requestTagKeys(
  tags: Readonly<Record<string, string>> | undefined,
  removed?: string[],
): ConditionContext {
  const out: ConditionContext = {};
  if (removed) {
    out['aws:tagkeys'] = removed;
    return out;
  }
  if (!tags) return out;
  for (const [k, v] of Object.entries(tags)) out[`aws:requesttag/${k.toLowerCase()}`] = v;
  out['aws:tagkeys'] = Object.keys(tags);
  return out;
}

/** The tags of the user or role an action is on: aws:ResourceTag/<key> and iam:ResourceTag/<key>. */
export function resourceTagKeys(tags: Readonly<Record<string, string>>): ConditionContext {
  const out: ConditionContext = {};
  for (const [k, v] of Object.entries(tags)) {
    out[`aws:resourcetag/${k.toLowerCase()}`] = v;
    out[`iam:resourcetag/${k.toLowerCase()}`] = v;
  }
  return out;
}
