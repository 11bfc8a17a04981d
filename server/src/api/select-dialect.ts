// CAIRN_SELECT_DIALECT, on its own so that the CLI (and a cluster's primary, which serves nothing) checks it
// without loading the Select handler and the storage engine behind it.
import type { SelectRequest } from '@cairn/select-engine';

export type Dialect = NonNullable<SelectRequest['dialect']>;
/** The engine's dialects (select-engine/src/sql/ast.ts); kept here so the server need not load the engine. */
export const DIALECTS: readonly Dialect[] = ['aws', 'cairn', 'ceph'];

/**
 * The dialect of requests that name none: CAIRN_SELECT_DIALECT (aws, cairn or ceph; aws when unset), for
 * clients that cannot add the query parameter (boto3 running ceph/s3-tests). Read once, when the server starts,
 * from the environment over the stored configuration (`select dialect`, api/admin/config/registry.ts).
 */
export function selectDialectFromEnv(env: NodeJS.ProcessEnv): Dialect | undefined {
  const v = env.CAIRN_SELECT_DIALECT;
  if (v === undefined || v === '') return undefined;
  if (!DIALECTS.includes(v as Dialect)) throw new Error(`CAIRN_SELECT_DIALECT is ${DIALECTS.join(', ')}, got '${v}'`);
  return v as Dialect;
}
