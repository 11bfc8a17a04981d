// Session tags and source identity (IAM User Guide, "Passing session tags in AWS STS" and "Monitor and control
// actions taken with assumed roles"). A role session may carry tags given at AssumeRole (`Tags.member.N.Key/
// Value`, `TransitiveTagKeys.member.N`) or by a web identity token's `https://aws.amazon.com/tags` claim
// (`principal_tags`, `transitive_tag_keys`), and a source identity (`SourceIdentity`, or the token's
// `https://aws.amazon.com/source_identity` claim). Transitive tags and the source identity pass to every session
// made from this one by role chaining; neither can be changed there (a tag with the key of an inherited one, or
// another source identity, is refused).
//
// The role's trust policy must allow sts:TagSession (when the new session has tags) and sts:SetSourceIdentity
// (when it has a source identity), judged with the condition keys this file gives: aws:RequestTag/<k>,
// aws:TagKeys, sts:TransitiveTagKeys, sts:SourceIdentity (and aws:SourceIdentity when inherited). In the
// session, tags are aws:PrincipalTag/<k> (over the role's own tags with the same key, whatever its case) and the
// source identity is aws:SourceIdentity.
import { S3Error } from '../../errors.js';
import type { ConditionContext } from '../policy-conditions.js';

/** The tags a session carries (keys as given) and which of them pass on through role chaining. */
export interface SessionTags {
  tags: Record<string, string>;
  /** Keys of `tags`, as written there. */
  transitive: string[];
}

/** AWS's limits: 50 tags, keys of 1 to 128 characters, values of up to 256. */
const MAX_TAGS = 50;
const MAX_KEY = 128;
const MAX_VALUE = 256;
/** Letters, numbers, white space and _ . : / = + - @ (STS's pattern for tag keys and values). */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
/** SourceIdentity: 2 to 64 of letters, digits and _ , + = . @ - ; never starting with `aws:`. */
const SOURCE_IDENTITY = /^[\w+=,.@-]{2,64}$/;

/** The space session policies and tags share (PackedPolicySize is their share of it, in percent). */
const PACKED_LIMIT = 2048;

export const TAGS_CLAIM = 'https://aws.amazon.com/tags';
export const SOURCE_IDENTITY_CLAIM = 'https://aws.amazon.com/source_identity';

type Refusal = (why: string) => S3Error;
const validation: Refusal = (why) => new S3Error('ValidationError', why);

function checkTag(key: string, value: string, refuse: Refusal): void {
  if (key.length < 1 || key.length > MAX_KEY || !TAG_TEXT.test(key)) {
    throw refuse(`The session tag key ${JSON.stringify(key.slice(0, 140))} must be 1 to ${MAX_KEY} characters of \
letters, numbers, spaces and _.:/=+-@`);
  }
  if (key.toLowerCase().startsWith('aws:')) throw refuse('Session tag keys cannot start with aws:');
  if (value.length > MAX_VALUE || !TAG_TEXT.test(value)) {
    throw refuse(`The value of the session tag ${key} must be up to ${MAX_VALUE} characters of letters, numbers, \
spaces and _.:/=+-@`);
  }
}

/** Checks a set of tags and transitive keys however they came (parameters or a token's claim). */
function checked(pairs: [string, string][], transitive: string[], refuse: Refusal): SessionTags | undefined {
  if (pairs.length === 0 && transitive.length === 0) return undefined;
  if (pairs.length > MAX_TAGS) throw refuse(`At most ${MAX_TAGS} session tags can be passed`);
  if (transitive.length > MAX_TAGS) throw refuse(`At most ${MAX_TAGS} transitive tag keys can be passed`);
  const tags: Record<string, string> = {};
  const seen = new Set<string>();
  for (const [k, v] of pairs) {
    checkTag(k, v, refuse);
    // Keys compare without case: Department and department are one tag.
    if (seen.has(k.toLowerCase())) {
      throw refuse('Duplicate tag keys found. Please note that Tag keys are case insensitive.');
    }
    seen.add(k.toLowerCase());
    tags[k] = v;
  }
  const keys: string[] = [];
  for (const t of transitive) {
    const key = Object.keys(tags).find((k) => k.toLowerCase() === t.toLowerCase());
    if (key === undefined)
      throw refuse(`The transitive tag key ${JSON.stringify(t.slice(0, 140))} is not a session tag`);
    if (!keys.includes(key)) keys.push(key);
  }
  return { tags, transitive: keys };
}

/** `Tags.member.N.Key` / `.Value` and `TransitiveTagKeys.member.N` of an AssumeRole request. */
export function tagsOfParams(params: URLSearchParams): SessionTags | undefined {
  const keys = new Map<number, string>();
  const values = new Map<number, string>();
  const transitive = new Map<number, string>();
  for (const [name, v] of params) {
    if (!name.startsWith('Tags.') && !name.startsWith('TransitiveTagKeys.')) continue;
    const tag = /^Tags\.member\.(\d{1,3})\.(Key|Value)$/.exec(name);
    const t = /^TransitiveTagKeys\.member\.(\d{1,3})$/.exec(name);
    if (tag) (tag[2] === 'Key' ? keys : values).set(Number(tag[1]), v);
    else if (t) transitive.set(Number(t[1]), v);
    else throw validation(`Unknown parameter ${name.slice(0, 64)}`);
  }
  for (const n of values.keys()) if (!keys.has(n)) throw validation(`Tags.member.${n} has a Value and no Key`);
  const pairs = [...keys].sort((a, b) => a[0] - b[0]).map(([n, k]): [string, string] => [k, values.get(n) ?? '']);
  const order = [...transitive].sort((a, b) => a[0] - b[0]).map(([, k]) => k);
  return checked(pairs, order, validation);
}

/**
 * The tags of a web identity token's `https://aws.amazon.com/tags` claim: `principal_tags` maps each key to a
 * list holding one value (a plain string is taken too); multivalued tags are not supported, as AWS says.
 */
export function tagsOfToken(payload: Record<string, unknown>): SessionTags | undefined {
  if (!(TAGS_CLAIM in payload)) return undefined;
  const bad = (why: string) => new S3Error('InvalidIdentityToken', `The token's ${TAGS_CLAIM} claim: ${why}`);
  const claim = payload[TAGS_CLAIM];
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(claim)) throw bad('it is not an object');
  const principal = claim.principal_tags ?? {};
  const transitive = claim.transitive_tag_keys ?? [];
  if (!isObject(principal)) throw bad('principal_tags is not an object');
  if (!Array.isArray(transitive) || !transitive.every((k) => typeof k === 'string')) {
    throw bad('transitive_tag_keys is not a list of strings');
  }
  const entries = Object.entries(principal);
  if (entries.length > MAX_TAGS) throw bad(`over ${MAX_TAGS} tags`);
  const pairs = entries.map(([k, v]): [string, string] => {
    const one = Array.isArray(v) && v.length === 1 ? v[0] : v;
    if (typeof one !== 'string') throw bad(`the tag ${k.slice(0, 140)} must have one string value`);
    return [k, one];
  });
  return checked(pairs, transitive as string[], (why) => bad(why));
}

/**
 * The session's tags: what a role chain passed on (`inherited`, all transitive) and what this request gives;
 * a requested tag with an inherited key is refused (AWS: "the operation fails").
 */
export function withInherited(inherited: SessionTags | undefined, requested: SessionTags | undefined) {
  if (!inherited || Object.keys(inherited.tags).length === 0) return requested;
  if (!requested) return inherited;
  const taken = new Set(Object.keys(inherited.tags).map((k) => k.toLowerCase()));
  for (const k of Object.keys(requested.tags)) {
    if (taken.has(k.toLowerCase())) {
      throw new S3Error('InvalidParameterValue', `The session tag ${k} has the key of an inherited transitive tag`);
    }
  }
  return {
    tags: { ...inherited.tags, ...requested.tags },
    transitive: [...inherited.transitive, ...requested.transitive],
  };
}

/**
 * The source identity a request gives (the parameter, or a token's claim): checked; in a role chain it must be
 * the one already set, which the new session keeps.
 */
export function sourceIdentityOf(
  given: string | undefined,
  inherited: string | undefined,
  refuse: Refusal = validation,
): string | undefined {
  if (given !== undefined) {
    if (!SOURCE_IDENTITY.test(given) || given.toLowerCase().startsWith('aws:')) {
      throw refuse('SourceIdentity must be 2 to 64 characters of letters, digits and _,+=.@- not starting with aws:');
    }
    if (inherited !== undefined && given !== inherited) {
      throw new S3Error('AccessDenied', 'The source identity of a role chain cannot be changed');
    }
  }
  return given ?? inherited;
}

/** The trust policy's condition keys for the tags and source identity of the session asked for. */
export function requestKeys(
  tags: SessionTags | undefined,
  sourceIdentity: string | undefined,
  inheritedSource: string | undefined,
): ConditionContext {
  const out: ConditionContext = {};
  if (tags) {
    for (const [k, v] of Object.entries(tags.tags)) out[`aws:requesttag/${k.toLowerCase()}`] = v;
    out['aws:tagkeys'] = Object.keys(tags.tags);
    if (tags.transitive.length > 0) out['sts:transitivetagkeys'] = tags.transitive;
  }
  if (sourceIdentity !== undefined) out['sts:sourceidentity'] = sourceIdentity;
  if (inheritedSource !== undefined) out['aws:sourceidentity'] = inheritedSource;
  return out;
}

/** A role's own tags as the trust policy reads them: aws:ResourceTag/<k> (the role is the resource assumed). */
export function roleTagKeys(tags: Readonly<Record<string, string>>): ConditionContext {
  const out: ConditionContext = {};
  for (const [k, v] of Object.entries(tags)) out[`aws:resourcetag/${k.toLowerCase()}`] = v;
  return out;
}

/**
 * The share of the packed space the session policies (inline text, managed policy ARNs) and tags take, in
 * percent; over 100 is refused with PackedPolicyTooLarge. Transitive marks take no space (AWS).
 */
export function packedSize(
  policies: { policy?: string; policyArns?: string[] },
  tags: SessionTags | undefined,
): number {
  let size = (policies.policy?.length ?? 0) + (policies.policyArns ?? []).reduce((n, a) => n + a.length, 0);
  for (const [k, v] of Object.entries(tags?.tags ?? {})) size += k.length + v.length;
  const percent = Math.ceil((size * 100) / PACKED_LIMIT);
  if (percent > 100) {
    throw new S3Error(
      'PackedPolicyTooLarge',
      `Packed size of the session policies and session tags combined is ${percent}% of the limit`,
    );
  }
  return percent;
}

/** Principal tags of a role session: the role's, with the session's tags over those of the same key (any case). */
export function principalTags(
  roleTags: Readonly<Record<string, string>>,
  session: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  if (!session) return { ...roleTags };
  const lower = new Set(Object.keys(session).map((k) => k.toLowerCase()));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(roleTags)) if (!lower.has(k.toLowerCase())) out[k] = v;
  return { ...out, ...session };
}

/** What a chained session passes on: its transitive tags. */
export function transitiveOf(tags: Record<string, string> | undefined, keys: string[] | undefined) {
  if (!tags || !keys || keys.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const k of keys) if (k in tags) out[k] = tags[k];
  return { tags: out, transitive: Object.keys(out) };
}

/** The session-token claims of a session's tags and source identity (absent when it has none). */
export function sessionExtras(tags: SessionTags | undefined, sourceIdentity: string | undefined) {
  const out: { tags?: Record<string, string>; transitive?: string[]; sourceIdentity?: string } = {};
  if (tags && Object.keys(tags.tags).length > 0) out.tags = tags.tags;
  if (tags && tags.transitive.length > 0) out.transitive = tags.transitive;
  if (sourceIdentity !== undefined) out.sourceIdentity = sourceIdentity;
  return out;
}
