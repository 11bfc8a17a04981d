// A first check of a policy document in the editor, before the server's own (which has the last word): valid
// JSON, a known Version, statements with an Effect, an action and a resource.

/** What is wrong with `text` as an IAM policy, or undefined when it looks right. */
export function policyProblem(text: string): string | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return `Not valid JSON: ${(e as Error).message}`;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'A policy is a JSON object.';
  const p = doc as Record<string, unknown>;
  if (p.Version !== '2012-10-17' && p.Version !== '2008-10-17') return 'Version must be "2012-10-17".';
  const statements = Array.isArray(p.Statement) ? p.Statement : p.Statement === undefined ? [] : [p.Statement];
  if (statements.length === 0) return 'The policy needs at least one Statement.';
  for (const [i, s] of statements.entries()) {
    const where = `Statement ${i + 1}`;
    if (typeof s !== 'object' || s === null) return `${where} is not an object.`;
    const st = s as Record<string, unknown>;
    if (st.Effect !== 'Allow' && st.Effect !== 'Deny') return `${where}: Effect must be "Allow" or "Deny".`;
    if (st.Action === undefined && st.NotAction === undefined) return `${where}: Action (or NotAction) is missing.`;
    if (st.Resource === undefined && st.NotResource === undefined) {
      return `${where}: Resource (or NotResource) is missing.`;
    }
  }
  return undefined;
}

export const POLICY_TEMPLATE = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:ListBucket"],
      "Resource": ["arn:aws:s3:::example-bucket", "arn:aws:s3:::example-bucket/*"]
    }
  ]
}`;
