// MinIO's admin API for identity provider configurations (`GET idp-config/openid`, `GET idp-config/openid/NAME`,
// madmin's ListIDPConfig / GetIDPConfig), read-only: Cairn's OpenID provider is configured by the environment
// (openid-config.ts), so it is listed and described, never added, changed or removed through the API. MinIO names
// the provider of the unsuffixed settings `_`; Cairn has only that one.
import { S3Error } from '../../errors.js';
import type { ApiContext } from '../types.js';

/** The name MinIO gives the provider configured without a `_<NAME>` suffix (config.Default). */
export const DEFAULT_IDP_NAME = '_';

/** madmin.IDPListItem. */
export interface IdpListItem {
  type: 'openid';
  name: string;
  enabled: boolean;
  roleARN?: string;
}

/** madmin.IDPCfgInfo: one setting, whether it is configuration (isCfg) and came from the environment (isEnv). */
export interface IdpCfgInfo {
  key: string;
  value: string;
  isCfg: boolean;
  isEnv: boolean;
}

/** madmin.IDPConfig. */
export interface IdpConfig {
  type: 'openid';
  name: string;
  info: IdpCfgInfo[];
}

/** `idp-config/openid`: the configured OpenID provider, if any. */
export function listOpenIdConfigs(ctx: ApiContext): IdpListItem[] {
  const p = ctx.openid;
  if (!p) return [];
  return [{ type: 'openid', name: DEFAULT_IDP_NAME, enabled: true, ...(p.roleArn ? { roleARN: p.roleArn } : {}) }];
}

/**
 * `idp-config/openid/NAME`: the provider's settings in MinIO's key names (a client secret is never shown: Cairn
 * does not keep it). Another name, or none configured: XMinioAdminNoSuchConfigTarget, as MinIO answers.
 */
export function openIdConfigInfo(ctx: ApiContext, name: string): IdpConfig {
  const p = ctx.openid;
  if (!p || name !== DEFAULT_IDP_NAME) throw new S3Error('XMinioAdminNoSuchConfigTarget');
  const c = p.config;
  const setting = (key: string, value: string | undefined): IdpCfgInfo[] =>
    value === undefined || value === '' ? [] : [{ key, value, isCfg: true, isEnv: true }];
  const info = [
    { key: 'enable', value: 'on', isCfg: true, isEnv: false },
    ...setting('config_url', c.configUrl),
    ...setting('client_id', c.clientId),
    ...setting('claim_name', c.rolePolicy ? undefined : c.claimName),
    ...setting('claim_prefix', c.claimPrefix),
    ...setting('role_policy', c.rolePolicy?.join(',')),
  ];
  if (p.roleArn) info.push({ key: 'roleARN', value: p.roleArn, isCfg: false, isEnv: false });
  return { type: 'openid', name, info };
}
