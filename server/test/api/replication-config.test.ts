// The ReplicationConfiguration parser and rule matching (api/replication/config.ts), and the checks of a
// replication request's headers (receive.ts), without a server.
import { describe, expect, it } from 'vitest';
import { S3Error } from '../../src/errors.js';
import { parseReplicationConfiguration, replicationXml, targetsFor } from '../../src/api/replication/config.js';
import { checkReplicationHeaders } from '../../src/api/replication/receive.js';
import { isTargetArn, parseBucketTarget } from '../../src/api/replication/targets.js';
import type { Operation } from '../../src/api/operation.js';

const A = 'arn:minio:replication::aaaaaaaa-0000-4000-8000-000000000000:dst';
const B = 'arn:minio:replication::bbbbbbbb-0000-4000-8000-000000000000:other';

function doc(rules: string, role = ''): string {
  return `<ReplicationConfiguration>${role ? `<Role>${role}</Role>` : ''}${rules}</ReplicationConfiguration>`;
}

function rule(inner: string, dest = A, priority = 1): string {
  return `<Rule><Status>Enabled</Status><Priority>${priority}</Priority>${inner}<Destination><Bucket>${dest}</Bucket></Destination></Rule>`;
}

const DM = '<DeleteMarkerReplication><Status>Enabled</Status></DeleteMarkerReplication>';
const NO_DM = '<DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication>';

function code(xml: string): string {
  try {
    parseReplicationConfiguration(xml);
    return 'ok';
  } catch (e) {
    if (e instanceof S3Error) return e.code;
    throw e;
  }
}

describe('ReplicationConfiguration', () => {
  it.each([
    ['no rule', doc(''), 'MalformedXML'],
    ['no DeleteMarkerReplication', doc(rule('<Filter><Prefix>a</Prefix></Filter>')), 'MalformedXML'],
    [
      'no Priority with a Filter',
      doc(`<Rule><Status>Enabled</Status><Filter/>${DM}<Destination><Bucket>${A}</Bucket></Destination></Rule>`),
      'MalformedXML',
    ],
    ['bad Status', doc(rule(`<Filter/>${DM}`).replace('Enabled', 'On')), 'MalformedXML'],
    ['duplicate priorities', doc(rule(`<Filter/>${DM}`) + rule(`<Filter/>${DM}`, B)), 'MalformedXML'],
    [
      'tag filter with delete markers',
      doc(rule(`<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>${DM}`)),
      'InvalidRequest',
    ],
    [
      'size filter',
      doc(rule(`<Filter><ObjectSizeGreaterThan>5</ObjectSizeGreaterThan></Filter>${DM}`)),
      'MalformedXML',
    ],
    [
      'no destination',
      doc(`<Rule><Status>Enabled</Status><Priority>1</Priority><Filter/>${DM}</Rule>`),
      'MalformedXML',
    ],
    [
      'replication time',
      doc(
        rule(`<Filter/>${DM}`).replace(
          '</Bucket>',
          '</Bucket><ReplicationTime><Status>Enabled</Status></ReplicationTime>',
        ),
      ),
      'NotImplemented',
    ],
    ['legacy destination without Role', doc(rule(`<Filter/>${DM}`, 'arn:aws:s3:::dst')), 'MalformedXML'],
    ['a Role and another target', doc(rule(`<Filter/>${DM}`, B), A), 'MalformedXML'],
    ['an unknown element', doc(rule(`<Filter/>${DM}<Mystery/>`)), 'MalformedXML'],
    ['a long ID', doc(rule(`<ID>${'x'.repeat(256)}</ID><Filter/>${DM}`)), 'InvalidArgument'],
    ['a valid one', doc(rule(`<ID>r</ID><Filter><Prefix>p/</Prefix></Filter>${DM}`)), 'ok'],
    ['a legacy destination with Role', doc(rule(`<Filter/>${DM}`, 'arn:aws:s3:::dst'), A), 'ok'],
  ])('%s: %s', (_what, xml, expected) => {
    expect(code(xml)).toBe(expected);
  });

  it('round-trips through its canonical document', () => {
    const c = parseReplicationConfiguration(
      doc(
        rule(
          `<ID>a</ID><Filter><And><Prefix>p/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter>${NO_DM}`,
        ) +
          rule(
            `<ID>b</ID><Filter><Prefix>q/</Prefix></Filter>${DM}<DeleteReplication><Status>Enabled</Status></DeleteReplication>`,
            B,
            2,
          ),
      ),
    );
    expect(parseReplicationConfiguration(replicationXml(c))).toEqual(c);
  });

  it('names the targets of the highest-priority matching rule, by kind of change', () => {
    const c = parseReplicationConfiguration(
      doc(
        rule(`<Filter><Prefix>logs/</Prefix></Filter>${NO_DM}`, A, 5) +
          rule(`<Filter><Prefix></Prefix></Filter>${DM}`, A, 1) +
          rule(`<Filter><And><Prefix>p/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter>${NO_DM}`, B, 3),
      ),
    );
    const arns = (key: string, tags: string | undefined, kind: 'object' | 'delete-marker' | 'delete-version') =>
      targetsFor(c, key, tags, kind).map((t) => t.arn);
    expect(arns('logs/x', undefined, 'object')).toEqual([A]);
    expect(arns('logs/x', undefined, 'delete-marker')).toEqual([]); // the logs/ rule (priority 5) decides for A
    expect(arns('other', undefined, 'delete-marker')).toEqual([A]);
    expect(arns('p/x', 'k=v', 'object').sort()).toEqual([A, B].sort());
    expect(arns('p/x', 'k=w', 'object')).toEqual([A]);
    expect(arns('p/x', undefined, 'delete-version')).toEqual([]);
  });
});

describe('replication targets and requests', () => {
  it('parses madmin BucketTargets and refuses what Cairn does not do', () => {
    const base = {
      endpoint: 'site-b:9000',
      credentials: { accessKey: 'ak', secretKey: 'sk' },
      targetbucket: 'dst',
      type: 'replication',
    };
    const t = parseBucketTarget(base, 'src');
    expect(isTargetArn(t.arn)).toBe(true);
    expect(t).toMatchObject({ endpoint: 'site-b:9000', secure: false, targetBucket: 'dst', sourceBucket: 'src' });
    const refused = (extra: Record<string, unknown>) => {
      try {
        parseBucketTarget({ ...base, ...extra }, 'src');
        return 'ok';
      } catch (e) {
        return (e as S3Error).code;
      }
    };
    expect(refused({ type: 'ilm' })).toBe('XMinioAdminRemoteARNTypeInvalid');
    expect(refused({ endpoint: 'http://site-b:9000' })).toBe('XMinioAdminInvalidArgument');
    expect(refused({ credentials: { accessKey: 'ak' } })).toBe('XMinioAdminInvalidArgument');
    expect(refused({ replicationSync: true })).toBe('NotImplemented');
    expect(refused({ bandwidthlimit: 200_000_000 })).toBe('NotImplemented');
    expect(refused({ path: 'off' })).toBe('NotImplemented');
    expect(isTargetArn('arn:minio:replication::id')).toBe(false);
  });

  it('lets only replication requests name a new version, with well-formed headers', () => {
    const put = {
      name: 'PutObject',
      action: 's3:PutObject',
      bucket: 'b',
      key: 'k',
      versionId: '7a1b6a3e-2c1d-4e5f-8a9b-0c1d2e3f4a5b',
    };
    const check = (op: object, headers: Record<string, string>) => {
      try {
        checkReplicationHeaders(op as Operation, headers);
        return 'ok';
      } catch (e) {
        return (e as S3Error).code;
      }
    };
    const replica = {
      'x-minio-source-replication-request': 'true',
      'x-minio-source-mtime': '2026-01-02T03:04:05.123456789Z',
      'x-amz-replication-status': 'REPLICA',
    };
    expect(check(put, replica)).toBe('ok');
    expect(check(put, {})).toBe('InvalidArgument'); // a version id without the replication request
    expect(check({ ...put, versionId: undefined }, {})).toBe('ok');
    expect(check({ ...put, versionId: undefined }, { 'x-amz-replication-status': 'REPLICA' })).toBe('InvalidArgument');
    expect(check({ ...put, versionId: 'not-a-uuid' }, replica)).toBe('InvalidArgument');
    expect(check(put, { ...replica, 'x-minio-source-mtime': 'yesterday' })).toBe('InvalidArgument');
    expect(check(put, { ...replica, 'x-minio-source-replication-request': 'yes' })).toBe('InvalidArgument');
    expect(check({ ...put, name: 'CopyObject' }, replica)).toBe('NotImplemented');
    expect(check({ ...put, name: 'DeleteObject' }, { ...replica, 'x-minio-source-deletemarker': 'true' })).toBe('ok');
    expect(check(put, { ...replica, 'x-minio-source-deletemarker': 'true' })).toBe('InvalidArgument');
  });
});
