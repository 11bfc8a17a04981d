// AssumeRoleWithWebIdentity into IAM roles, AWS's model: the real OpenID provider (oidc-provider on loopback) is
// registered with CreateOpenIDConnectProvider, roles trust it by its ARN with conditions on `<url>:aud`,
// `<url>:sub` and `<url>:amr`, and ID tokens from the authorization code flow give role sessions whose rights
// are the role's policies (narrowed by a session policy). Trust mismatches, tokens of another issuer or for
// another client, expired tokens and deleted roles are refused with STS's errors, and the configured provider's
// MinIO modes keep answering beside it (same server, CAIRN_IDENTITY_OPENID_* set).
import {
  AddClientIDToOpenIDConnectProviderCommand,
  CreateOpenIDConnectProviderCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  DeleteOpenIDConnectProviderCommand,
  DeletePolicyCommand,
  CreateUserCommand,
  CreateAccessKeyCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  type AssumeRoleWithWebIdentityCommandInput,
  GetCallerIdentityCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { importJWK, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/cairn.js';
import { CLIENT_ID, startOidcProvider, type OidcProvider } from '../helpers/oidc.js';
import { errorCode, errorMessage, iamClient, rootCreds, s3As, stsClient, type Creds } from './helpers.js';

const BUCKET = 'web-roles';
let idp: OidcProvider;
/** A second provider, registered too, that no role trusts; and a third, never registered. */
let other: OidcProvider;
let stranger: OidcProvider;
let server: TestServer;
let offset = 0;
/** The provider's URL as IAM keeps it (and condition keys name it): without the scheme. */
let url: string;
let providerArn: string;

const iam = () => iamClient(server.url);
const READ_SHARED = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/shared/*` }],
});

function trust(condition: Record<string, Record<string, string | string[]>>, federated = providerArn): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: federated },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: condition,
      },
    ],
  });
}

async function createRole(name: string, trustPolicy: string, permissions = READ_SHARED, max?: number) {
  await iam().send(
    new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trustPolicy, MaxSessionDuration: max }),
  );
  await iam().send(new PutRolePolicyCommand({ RoleName: name, PolicyName: 'perm', PolicyDocument: permissions }));
  return `arn:aws:iam:::role/${name}`;
}

const sts = () => new STSClient({ endpoint: server.url, region: 'us-east-1', maxAttempts: 1 });

async function webLogin(roleArn: string, token: string, extra: Partial<AssumeRoleWithWebIdentityCommandInput> = {}) {
  const out = await sts().send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: roleArn,
      RoleSessionName: 'web',
      WebIdentityToken: token,
      ...extra,
    }),
  );
  const c = out.Credentials!;
  const creds: Creds = {
    accessKeyId: c.AccessKeyId!,
    secretAccessKey: c.SecretAccessKey!,
    sessionToken: c.SessionToken!,
  };
  return { creds, out };
}

const loginError = (roleArn: string, token: string, extra: Partial<AssumeRoleWithWebIdentityCommandInput> = {}) =>
  errorCode(webLogin(roleArn, token, extra));

/** A token signed with the provider's own key, with claims the test chooses (amr: the flow gives none). */
async function sign(provider: OidcProvider, claims: JWTPayload, exp: number | string = '10m'): Promise<string> {
  const key = provider.signingKey();
  return new SignJWT({ aud: CLIENT_ID, ...claims })
    .setProtectedHeader({ alg: key.jwk.alg as string, kid: key.kid })
    .setIssuer(provider.issuer)
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(await importJWK(key.jwk, key.jwk.alg as string));
}

async function read(creds: Creds, key: string): Promise<string> {
  const got = await s3As(server.url, creds, offset).send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return got.Body!.transformToString();
}

const keys = async () =>
  ((await s3As(server.url, rootCreds).send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? []).map(
    (o) => o.Key,
  );

beforeAll(async () => {
  const accounts = { alice: { preferred_username: 'alice' }, 'team-a': {}, 'team-b': {}, bob: {} };
  [idp, other, stranger] = await Promise.all([
    startOidcProvider(accounts),
    startOidcProvider(accounts),
    startOidcProvider(accounts),
  ]);
  // The configured provider (MinIO's claim mode) is the same one: both models answer on one server.
  server = await startTestServer({
    openid: { configUrl: idp.configUrl, clientId: CLIENT_ID, claimName: 'policy', claimPrefix: '' },
    now: () => Date.now() + offset,
  });
  url = idp.issuer.replace(/^http:\/\//, '');
  const created = await iam().send(
    new CreateOpenIDConnectProviderCommand({ Url: idp.issuer, ClientIDList: [CLIENT_ID] }),
  );
  providerArn = created.OpenIDConnectProviderArn!;
  expect(providerArn).toBe(`arn:aws:iam:::oidc-provider/${url}`);
  await iam().send(new CreateOpenIDConnectProviderCommand({ Url: other.issuer, ClientIDList: [CLIENT_ID] }));
  const root = s3As(server.url, rootCreds);
  await root.send(new CreateBucketCommand({ Bucket: BUCKET }));
  for (const Key of ['shared/a.txt', 'private/b.txt', 'home/alice/c.txt']) {
    await root.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: `body of ${Key}` }));
  }
}, 60_000);

afterAll(async () => {
  await server?.close();
  await Promise.all([idp?.close(), other?.close(), stranger?.close()]);
});

const ORIGINAL = ['home/alice/c.txt', 'private/b.txt', 'shared/a.txt'];

describe('trust policies judge tokens of a registered provider', () => {
  it("allows by aud and sub: the role's policies, AWS's assumed-role ARN, nothing more", async () => {
    const arn = await createRole(
      'alice-reader',
      trust({ StringEquals: { [`${url}:aud`]: CLIENT_ID, [`${url}:sub`]: 'alice' } }),
    );
    const { creds, out } = await webLogin(arn, await idp.login('alice'), { DurationSeconds: 900 });
    expect(out.AssumedRoleUser?.Arn).toBe('arn:aws:sts:::assumed-role/alice-reader/web');
    expect(out.AssumedRoleUser?.AssumedRoleId).toMatch(/^AROA[A-Z0-9]{17}:web$/);
    expect(out.SubjectFromWebIdentityToken).toBe('alice');
    expect(out.Audience).toBe(CLIENT_ID);
    expect(out.Provider).toBe(providerArn);
    const seconds = (out.Credentials!.Expiration!.getTime() - Date.now()) / 1000;
    expect(seconds).toBeGreaterThan(800);
    expect(seconds).toBeLessThanOrEqual(900);
    expect(await read(creds, 'shared/a.txt')).toBe('body of shared/a.txt');
    expect(await errorCode(read(creds, 'private/b.txt'))).toBe('AccessDenied');
    const put = s3As(server.url, creds).send(new PutObjectCommand({ Bucket: BUCKET, Key: 'shared/x', Body: 'x' }));
    expect(await errorCode(put)).toBe('AccessDenied');
    const who = await stsClient(server.url, creds).send(new GetCallerIdentityCommand({}));
    expect(who.Arn).toBe('arn:aws:sts:::assumed-role/alice-reader/web');
    // Another subject, or a token for another client of the same provider: the trust policy says no.
    expect(await loginError(arn, await idp.login('bob'))).toBe('AccessDenied');
    expect(await keys()).toEqual(ORIGINAL);
  });

  it('matches a wildcard sub with StringLike, and amr with ForAnyValue:StringEquals', async () => {
    const teams = await createRole(
      'teams',
      trust({ StringLike: { [`${url}:sub`]: 'team-*' }, StringEquals: { 'aws:FederatedProvider': providerArn } }),
    );
    await webLogin(teams, await idp.login('team-a'));
    await webLogin(teams, await idp.login('team-b'));
    expect(await loginError(teams, await idp.login('alice'))).toBe('AccessDenied');
    const mfa = await createRole('mfa-only', trust({ 'ForAnyValue:StringEquals': { [`${url}:amr`]: 'mfa' } }));
    await webLogin(mfa, await sign(idp, { sub: 'bob', amr: ['pwd', 'mfa'] }));
    expect(await loginError(mfa, await sign(idp, { sub: 'bob', amr: ['pwd'] }))).toBe('AccessDenied');
    // ForAnyValue fails when the token has no amr at all (the flow's ID tokens carry none).
    expect(await loginError(mfa, await idp.login('bob'))).toBe('AccessDenied');
  });

  it('takes only the trusted provider: another registered one is AccessDenied, an unregistered one invalid', async () => {
    const arn = await createRole('first-only', trust({ StringEquals: { [`${url}:aud`]: CLIENT_ID } }));
    await webLogin(arn, await idp.login('alice'));
    expect(await loginError(arn, await other.login('alice'))).toBe('AccessDenied');
    expect(await loginError(arn, await stranger.login('alice'))).toBe('InvalidIdentityToken');
    // A token naming the trusted issuer but signed by another provider's key does not verify.
    const forged = await new SignJWT({ sub: 'alice', aud: CLIENT_ID })
      .setProtectedHeader({ alg: 'RS256', kid: idp.signingKey().kid })
      .setIssuer(idp.issuer)
      .setExpirationTime('10m')
      .sign(await importJWK(other.signingKey().jwk, 'RS256'));
    expect(await loginError(arn, forged)).toBe('InvalidIdentityToken');
  });

  it("checks the audience against the provider's client ids, read at each login", async () => {
    const arn = await createRole('any-aud', trust({ StringLike: { [`${url}:sub`]: '*' } }));
    const token = await sign(idp, { sub: 'alice', aud: 'mobile-app' });
    expect(await loginError(arn, token)).toBe('InvalidIdentityToken');
    await iam().send(
      new AddClientIDToOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: providerArn, ClientID: 'mobile-app' }),
    );
    const { out } = await webLogin(arn, token);
    expect(out.Audience).toBe('mobile-app');
    // A token for that other client of the same provider: a role trusting only CLIENT_ID's says no.
    const reader = 'arn:aws:iam:::role/alice-reader';
    expect(await loginError(reader, await sign(idp, { sub: 'alice', aud: 'mobile-app' }))).toBe('AccessDenied');
    await webLogin(reader, await sign(idp, { sub: 'alice' }));
  });

  it('narrows the rights by a session policy and bounds DurationSeconds by MaxSessionDuration', async () => {
    const both = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/*` }],
    });
    const arn = await createRole('narrowed', trust({ StringEquals: { [`${url}:sub`]: 'alice' } }), both, 7200);
    const wide = await webLogin(arn, await idp.login('alice'), { DurationSeconds: 7200 });
    expect(await read(wide.creds, 'private/b.txt')).toBe('body of private/b.txt');
    const Policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: `arn:aws:s3:::${BUCKET}/home/*` }],
    });
    const { creds, out } = await webLogin(arn, await idp.login('alice'), { Policy });
    expect(out.PackedPolicySize).toBeGreaterThan(0);
    expect(await read(creds, 'home/alice/c.txt')).toBe('body of home/alice/c.txt');
    expect(await errorCode(read(creds, 'private/b.txt'))).toBe('AccessDenied');
    // The session policy allows PUT; the role does not: refused.
    const put = s3As(server.url, creds).send(new PutObjectCommand({ Bucket: BUCKET, Key: 'home/x', Body: 'x' }));
    expect(await errorCode(put)).toBe('AccessDenied');
    // Managed policies as session policies (PolicyArns): with Policy, one set; read at every request.
    const homeOnly = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/home/*` }],
    });
    await iam().send(new CreatePolicyCommand({ PolicyName: 'session-home', PolicyDocument: homeOnly }));
    const sharedOnly = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/shared/*` }],
    });
    const managed = await webLogin(arn, await idp.login('alice'), {
      PolicyArns: [{ arn: 'arn:aws:iam:::policy/session-home' }],
      Policy: sharedOnly,
    });
    expect(await read(managed.creds, 'home/alice/c.txt')).toBe('body of home/alice/c.txt');
    expect(await read(managed.creds, 'shared/a.txt')).toBe('body of shared/a.txt');
    expect(await errorCode(read(managed.creds, 'private/b.txt'))).toBe('AccessDenied');
    await iam().send(new DeletePolicyCommand({ PolicyArn: 'arn:aws:iam:::policy/session-home' }));
    expect(await errorCode(read(managed.creds, 'home/alice/c.txt'))).toBe('AccessDenied');
    expect(await read(managed.creds, 'shared/a.txt')).toBe('body of shared/a.txt');
    const gone = { PolicyArns: [{ arn: 'arn:aws:iam:::policy/session-home' }] };
    expect(await loginError(arn, await idp.login('alice'), gone)).toBe('MalformedPolicyDocument');
    expect(await loginError(arn, await idp.login('alice'), { DurationSeconds: 7201 })).toBe('ValidationError');
    expect(await loginError(arn, await idp.login('alice'), { RoleSessionName: undefined })).toBe('ValidationError');
    // Session tags and a source identity come as claims of the token, as AWS reads them: this role's trust
    // policy allows neither sts:TagSession nor sts:SetSourceIdentity (session-tags.test.ts has roles that do).
    for (const claim of ['https://aws.amazon.com/tags', 'https://aws.amazon.com/source_identity']) {
      const value = claim.endsWith('tags') ? { principal_tags: { team: ['a'] } } : 'alice';
      expect(await loginError(arn, await sign(idp, { sub: 'alice', [claim]: value }))).toBe('AccessDenied');
    }
    expect(await keys()).toEqual(ORIGINAL);
  });

  it("gives the session the token's keys: a role policy conditioned on <url>:sub", async () => {
    const own = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 's3:GetObject',
          Resource: `arn:aws:s3:::${BUCKET}/home/*`,
          Condition: { StringEquals: { [`${url}:sub`]: 'alice' } },
        },
      ],
    });
    const arn = await createRole('homes', trust({ StringLike: { [`${url}:sub`]: '*' } }), own);
    expect(await read((await webLogin(arn, await idp.login('alice'))).creds, 'home/alice/c.txt')).toContain('c.txt');
    expect(await errorCode(read((await webLogin(arn, await idp.login('bob'))).creds, 'home/alice/c.txt'))).toBe(
      'AccessDenied',
    );
  });

  it('refuses an expired token, and cuts the sessions of a role deleted after the login', async () => {
    const arn = await createRole('short-lived', trust({ StringEquals: { [`${url}:sub`]: 'alice' } }));
    const now = Math.floor(Date.now() / 1000);
    expect(await loginError(arn, await sign(idp, { sub: 'alice' }, now - 120))).toBe('ExpiredTokenException');
    const { creds } = await webLogin(arn, await idp.login('alice'), { DurationSeconds: 900 });
    expect(await read(creds, 'shared/a.txt')).toBe('body of shared/a.txt');
    offset = 901_000;
    try {
      expect(await errorCode(read(creds, 'shared/a.txt'))).toBe('ExpiredToken');
    } finally {
      offset = 0;
    }
    const again = await webLogin(arn, await idp.login('alice'));
    await iam().send(new DeleteRolePolicyCommand({ RoleName: 'short-lived', PolicyName: 'perm' }));
    await iam().send(new DeleteRoleCommand({ RoleName: 'short-lived' }));
    expect(await errorCode(read(again.creds, 'shared/a.txt'))).toBe('AccessDenied');
    // The same name made again is another role: the old sessions stay cut; a login now gets the new one.
    await createRole('short-lived', trust({ StringEquals: { [`${url}:sub`]: 'alice' } }));
    expect(await errorCode(read(again.creds, 'shared/a.txt'))).toBe('AccessDenied');
    expect(await read((await webLogin(arn, await idp.login('alice'))).creds, 'shared/a.txt')).toContain('a.txt');
  });

  it('refuses trust policies naming keys it has no value for, storing nothing', async () => {
    const bad = trust({ StringEquals: { [`${url}:groups`]: 'x' } });
    expect(
      await errorCode(iam().send(new CreateRoleCommand({ RoleName: 'bad-key', AssumeRolePolicyDocument: bad }))),
    ).toBe('MalformedPolicyDocument');
    expect(await errorCode(iam().send(new DeleteRoleCommand({ RoleName: 'bad-key' })))).toBe('NoSuchEntity');
  });
});

describe('the two models side by side, and AssumeRole', () => {
  it("answers MinIO's claim mode for an ARN naming no IAM role, and the role's trust for one that does", async () => {
    await iam().send(new CreatePolicyCommand({ PolicyName: 'claim-read', PolicyDocument: READ_SHARED }));
    const token = await sign(idp, { sub: 'carol', policy: 'claim-read' });
    const claim = await webLogin('arn:aws:iam::123456789012:role/not-a-cairn-role', token);
    expect(claim.out.AssumedRoleUser?.Arn).toBe('arn:aws:sts:::assumed-role/openid/web');
    expect(await read(claim.creds, 'shared/a.txt')).toBe('body of shared/a.txt');
    // The same token for an IAM role that trusts only alice: the trust policy decides, not the claim.
    const arn = await createRole('alice-only', trust({ StringEquals: { [`${url}:sub`]: 'alice' } }));
    expect(await loginError(arn, token)).toBe('AccessDenied');
  });

  it('does not let AssumeRole into a role that trusts only a web identity provider, nor the reverse', async () => {
    const arn = await createRole('federated-only', trust({ StringLike: { [`${url}:sub`]: '*' } }));
    await iam().send(new CreateUserCommand({ UserName: 'assumer' }));
    await iam().send(
      new PutUserPolicyCommand({
        UserName: 'assumer',
        PolicyName: 'assume',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }],
        }),
      }),
    );
    const key = (await iam().send(new CreateAccessKeyCommand({ UserName: 'assumer' }))).AccessKey!;
    const user = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
    const assume = (RoleArn: string) =>
      stsClient(server.url, user).send(new AssumeRoleCommand({ RoleArn, RoleSessionName: 'xy' }));
    expect(await errorCode(assume(arn))).toBe('AccessDenied');
    // A role trusting the account (AssumeRole) is not open to web identities, until its trust says so.
    const accountTrust = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam:::root' }, Action: 'sts:AssumeRole' }],
    });
    const both = await createRole('account-trust', accountTrust);
    await assume(both);
    // AssumeRole takes PolicyArns too: the role reads shared/, the session policy only home/: nothing left.
    await iam().send(
      new CreatePolicyCommand({
        PolicyName: 'home-only',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/home/*` }],
        }),
      }),
    );
    const narrowed = (
      await stsClient(server.url, user).send(
        new AssumeRoleCommand({
          RoleArn: both,
          RoleSessionName: 'xy',
          PolicyArns: [{ arn: 'arn:aws:iam:::policy/home-only' }],
        }),
      )
    ).Credentials!;
    const narrowedCreds = {
      accessKeyId: narrowed.AccessKeyId!,
      secretAccessKey: narrowed.SecretAccessKey!,
      sessionToken: narrowed.SessionToken!,
    };
    expect(await errorCode(read(narrowedCreds, 'shared/a.txt'))).toBe('AccessDenied');
    expect(await loginError(both, await idp.login('alice'))).toBe('AccessDenied');
    await iam().send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: 'account-trust',
        PolicyDocument: trust({ StringEquals: { [`${url}:sub`]: 'alice' } }),
      }),
    );
    await webLogin(both, await idp.login('alice'));
    expect(await errorCode(assume(both))).toBe('AccessDenied');
  });
});

describe('providers registered, unreachable and deleted', () => {
  it('accepts no token of a provider registered without client ids, as AWS', async () => {
    const strangerUrl = stranger.issuer.replace(/^http:\/\//, '');
    const created = await iam().send(new CreateOpenIDConnectProviderCommand({ Url: stranger.issuer }));
    try {
      const arn = await createRole(
        'no-client-ids',
        trust({ StringLike: { [`${strangerUrl}:sub`]: '*' } }, created.OpenIDConnectProviderArn),
      );
      const token = await stranger.login('alice');
      expect(await errorMessage(webLogin(arn, token))).toMatch(/Incorrect token audience/);
      await iam().send(
        new AddClientIDToOpenIDConnectProviderCommand({
          OpenIDConnectProviderArn: created.OpenIDConnectProviderArn,
          ClientID: CLIENT_ID,
        }),
      );
      await webLogin(arn, token);
    } finally {
      await iam().send(
        new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: created.OpenIDConnectProviderArn }),
      );
    }
  });

  it('answers IDPCommunicationError when a registered provider cannot be reached', async () => {
    const gone = await startOidcProvider({});
    await gone.close();
    const goneUrl = gone.issuer.replace(/^http:\/\//, '');
    const created = await iam().send(
      new CreateOpenIDConnectProviderCommand({ Url: gone.issuer, ClientIDList: [CLIENT_ID] }),
    );
    const arn = await createRole(
      'unreachable',
      trust({ StringLike: { [`${goneUrl}:sub`]: '*' } }, created.OpenIDConnectProviderArn),
    );
    expect(await loginError(arn, await sign(gone, { sub: 'alice' }))).toBe('IDPCommunicationError');
  });

  it('keeps the sessions of a provider deleted after the login, and refuses new logins', async () => {
    const otherUrl = other.issuer.replace(/^http:\/\//, '');
    const otherArn = `arn:aws:iam:::oidc-provider/${otherUrl}`;
    const arn = await createRole('second-idp', trust({ StringEquals: { [`${otherUrl}:sub`]: 'alice' } }, otherArn));
    const { creds } = await webLogin(arn, await other.login('alice'));
    await iam().send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: otherArn }));
    expect(await read(creds, 'shared/a.txt')).toBe('body of shared/a.txt');
    expect(await errorMessage(webLogin(arn, await other.login('alice')))).toMatch(/No OpenIDConnect provider found/);
  });
});
