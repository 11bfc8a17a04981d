// The statements the IAM benches give their policies (authorize.bench.ts, load.bench.ts): the shapes a
// deployment writes, in turn: a team prefix, a per-user prefix through `${aws:username}`, a listing narrowed
// by an s3:prefix condition, a Deny, and reads allowed from some networks (aws:SourceIp).

/** Statement `s` of policy `p`, on `bucket`. */
export function statement(p: number, s: number, bucket: string): object {
  switch (s % 5) {
    case 0:
      return { Effect: 'Allow', Action: ['s3:GetObject'], Resource: `arn:aws:s3:::${bucket}/team-${p % 50}/*` };
    case 1:
      return {
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:GetObject'],
        Resource: `arn:aws:s3:::${bucket}/\${aws:username}/*`,
      };
    case 2:
      return {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: `arn:aws:s3:::${bucket}`,
        Condition: { StringLike: { 's3:prefix': [`team-${p % 50}/*`, 'shared/*'] } },
      };
    case 3:
      return { Effect: 'Deny', Action: 's3:DeleteObject', Resource: `arn:aws:s3:::${bucket}/locked/*` };
    default:
      return {
        Effect: 'Allow',
        Action: ['s3:Get*'],
        Resource: `arn:aws:s3:::${bucket}/shared/*`,
        Condition: { IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '127.0.0.0/8'] } },
      };
  }
}
