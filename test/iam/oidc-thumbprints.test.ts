// OpenID providers behind a private CA (made here with openssl): an IAM OIDC provider's ThumbprintList names
// the CA Cairn trusts for the provider's HTTPS, by AWS's rule (the SHA-1 thumbprint of the top certificate of
// the chain the provider presents: here an intermediate). The real oidc-provider serves its discovery document
// and JWKS over HTTPS with a leaf of that intermediate; tokens are signed with its own key (its login flow
// speaks plain HTTP). A list without the CA's thumbprint (UpdateOpenIDConnectProviderThumbprint), a root the
// server does not present, a chain that only pretends to come from the CA and a certificate for another host
// are all refused, and nothing is issued.
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  PutRolePolicyCommand,
  UpdateOpenIDConnectProviderThumbprintCommand,
} from '@aws-sdk/client-iam';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { importJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/cairn.js';
import { CLIENT_ID, startOidcProvider, type OidcProvider } from '../helpers/oidc.js';
import { issue, makeCa, makeIntermediate, type TestCa } from '../helpers/tls.js';
import { errorCode, iamClient, rootCreds, s3As } from './helpers.js';

const BUCKET = 'private-idp';
let dir: string;
let root: TestCa;
let intermediate: TestCa;
let other: TestCa;
/** Served with leaf + intermediate; one with a certificate for another host; one presenting a forged chain. */
let idp: OidcProvider;
let wrongHost: OidcProvider;
let forged: OidcProvider;
/** Served like idp, registered without thumbprints. */
let unlisted: OidcProvider;
let server: TestServer;
const iam = () => iamClient(server.url);

/** SHA-1 of the certificate's DER, in hex: the thumbprint IAM takes. */
const thumbprint = (pem: string) => createHash('sha1').update(new X509Certificate(pem).raw).digest('hex');

async function token(provider: OidcProvider, sub = 'alice'): Promise<string> {
  const key = provider.signingKey();
  return new SignJWT({ sub, aud: CLIENT_ID })
    .setProtectedHeader({ alg: key.jwk.alg as string, kid: key.kid })
    .setIssuer(provider.issuer)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(await importJWK(key.jwk, key.jwk.alg as string));
}

/** Registers the provider with `thumbprints` and a role trusting it that may read the bucket; the role's ARN. */
async function register(provider: OidcProvider, name: string, thumbprints: string[]) {
  const created = await iam().send(
    new CreateOpenIDConnectProviderCommand({
      Url: provider.issuer,
      ClientIDList: [CLIENT_ID],
      ThumbprintList: thumbprints,
    }),
  );
  const trust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: created.OpenIDConnectProviderArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
      },
    ],
  });
  await iam().send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust }));
  const read = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/*` }],
  });
  await iam().send(new PutRolePolicyCommand({ RoleName: name, PolicyName: 'read', PolicyDocument: read }));
  return { roleArn: `arn:aws:iam:::role/${name}`, providerArn: created.OpenIDConnectProviderArn! };
}

async function login(roleArn: string, provider: OidcProvider) {
  const sts = new STSClient({ endpoint: server.url, region: 'us-east-1', maxAttempts: 1 });
  return sts.send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: roleArn,
      RoleSessionName: 'tls',
      WebIdentityToken: await token(provider),
    }),
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-oidc-tls-'));
  root = await makeCa(join(dir, 'root'), 'ecdsa', 'Cairn private root');
  intermediate = await makeIntermediate(root, join(dir, 'intermediate'));
  other = await makeCa(join(dir, 'other'), 'ecdsa', 'Another private CA');
  const leaf = await issue(intermediate, ['127.0.0.1']);
  idp = await startOidcProvider({}, { cert: leaf.cert + intermediate.pem, key: leaf.key });
  unlisted = await startOidcProvider({}, { cert: leaf.cert + intermediate.pem, key: leaf.key });
  const elsewhere = await issue(intermediate, ['idp.example.com']);
  wrongHost = await startOidcProvider({}, { cert: elsewhere.cert + intermediate.pem, key: elsewhere.key });
  // A CA of the attacker's with the intermediate's name: its leaf presented with the real intermediate after it.
  const impostor = await makeCa(join(dir, 'impostor'), 'ecdsa', 'Cairn test intermediate');
  const fake = await issue(impostor, ['127.0.0.1']);
  forged = await startOidcProvider({}, { cert: fake.cert + intermediate.pem, key: fake.key });
  server = await startTestServer();
  await s3As(server.url, rootCreds).send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3As(server.url, rootCreds).send(new PutObjectCommand({ Bucket: BUCKET, Key: 'doc', Body: 'secret' }));
}, 60_000);

afterAll(async () => {
  await server?.close();
  await Promise.all([idp?.close(), wrongHost?.close(), forged?.close(), unlisted?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a provider behind a private CA', () => {
  it("is trusted by its top CA's thumbprint, and refused as soon as the list no longer names it", async () => {
    const { roleArn, providerArn } = await register(idp, 'private-idp', [thumbprint(intermediate.pem)]);
    const out = await login(roleArn, idp);
    const c = out.Credentials!;
    const s3 = s3As(server.url, {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken!,
    });
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'doc' }));
    expect(await got.Body!.transformToString()).toBe('secret');
    // Another CA's thumbprint, or the root's (which the server does not present): refused, nothing issued.
    for (const list of [[thumbprint(other.pem)], [thumbprint(root.pem)]]) {
      await iam().send(
        new UpdateOpenIDConnectProviderThumbprintCommand({
          OpenIDConnectProviderArn: providerArn,
          ThumbprintList: list,
        }),
      );
      expect(await errorCode(login(roleArn, idp))).toBe('InvalidIdentityToken');
    }
    // Upper case and several thumbprints: the CA's among them is enough.
    const list = [thumbprint(other.pem), thumbprint(intermediate.pem).toUpperCase()];
    await iam().send(
      new UpdateOpenIDConnectProviderThumbprintCommand({ OpenIDConnectProviderArn: providerArn, ThumbprintList: list }),
    );
    expect((await login(roleArn, idp)).Credentials?.AccessKeyId).toMatch(/^ASIA/);
  });

  it('without thumbprints its certificate is not trusted at all', async () => {
    const { roleArn } = await register(unlisted, 'no-list', []);
    expect(await errorCode(login(roleArn, unlisted))).toBe('IDPCommunicationError');
  });

  it('a certificate for another host, or a chain that only names the CA, is refused despite the thumbprint', async () => {
    const host = await register(wrongHost, 'wrong-host', [thumbprint(intermediate.pem)]);
    expect(await errorCode(login(host.roleArn, wrongHost))).toBe('IDPCommunicationError');
    // The impostor's leaf names its own CA's key (authority key id), so it does not chain to the intermediate
    // presented after it: the chain's top is the leaf, whose thumbprint is not registered.
    const fake = await register(forged, 'forged', [thumbprint(intermediate.pem)]);
    expect(await errorCode(login(fake.roleArn, forged))).toBe('InvalidIdentityToken');
  });
});
