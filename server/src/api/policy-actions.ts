// The actions a policy may name, per service: S3's, IAM's and STS's (the AWS Service Authorization Reference;
// S3's list also has MinIO's s3:ResetBucketReplicationState, replication resyncs)
// and MinIO's `admin:` actions (its admin API). A policy naming an action outside these lists, or a service
// Cairn does not serve, is refused when it is stored: an action misspelt in a Deny would otherwise never apply.
// Patterns with * or ? are accepted for a known service; they match against these names (lower-cased).

const S3 = `AbortMultipartUpload BypassGovernanceRetention CreateAccessPoint CreateAccessPointForObjectLambda CreateBucket
CreateJob CreateMultiRegionAccessPoint CreateStorageLensGroup DeleteAccessPoint DeleteAccessPointForObjectLambda
DeleteAccessPointPolicy DeleteAccessPointPolicyForObjectLambda DeleteBucket DeleteBucketOwnershipControls
DeleteBucketPolicy DeleteBucketWebsite DeleteJobTagging DeleteMultiRegionAccessPoint DeleteObject DeleteObjectTagging
DeleteObjectVersion DeleteObjectVersionTagging DeleteStorageLensConfiguration DeleteStorageLensConfigurationTagging
DeleteStorageLensGroup DescribeJob DescribeMultiRegionAccessPointOperation GetAccelerateConfiguration GetAccessPoint
GetAccessPointConfigurationForObjectLambda GetAccessPointForObjectLambda GetAccessPointPolicy
GetAccessPointPolicyForObjectLambda GetAccessPointPolicyStatus GetAccessPointPolicyStatusForObjectLambda
GetAccountPublicAccessBlock GetAnalyticsConfiguration GetBucketAbac GetBucketAcl GetBucketCORS GetBucketLocation GetBucketLogging
GetBucketNotification GetBucketObjectLockConfiguration GetBucketOwnershipControls GetBucketPolicy
GetBucketPolicyStatus GetBucketPublicAccessBlock GetBucketRequestPayment GetBucketTagging GetBucketVersioning
GetBucketWebsite GetEncryptionConfiguration GetIntelligentTieringConfiguration GetInventoryConfiguration
GetJobTagging GetLifecycleConfiguration GetMetricsConfiguration GetMultiRegionAccessPoint
GetMultiRegionAccessPointPolicy GetMultiRegionAccessPointPolicyStatus GetObject GetObjectAcl GetObjectAttributes
GetObjectLegalHold GetObjectRetention GetObjectTagging GetObjectTorrent GetObjectVersion GetObjectVersionAcl
GetObjectVersionAttributes GetObjectVersionForReplication GetObjectVersionTagging GetObjectVersionTorrent
GetReplicationConfiguration GetStorageLensConfiguration GetStorageLensConfigurationTagging GetStorageLensDashboard
GetStorageLensGroup InitiateReplication ListAccessPoints ListAccessPointsForObjectLambda ListAllMyBuckets ListBucket
ListBucketMultipartUploads ListBucketVersions ListJobs ListMultiRegionAccessPoints ListMultipartUploadParts
ListStorageLensConfigurations ListStorageLensGroups ListTagsForResource ObjectOwnerOverrideToBucketOwner
PutAccelerateConfiguration PutAccessPointConfigurationForObjectLambda PutAccessPointPolicy
PutAccessPointPolicyForObjectLambda PutAccessPointPublicAccessBlock PutAccountPublicAccessBlock
PutAnalyticsConfiguration PutBucketAbac PutBucketAcl PutBucketCORS PutBucketLogging PutBucketNotification
PutBucketObjectLockConfiguration PutBucketOwnershipControls PutBucketPolicy PutBucketPublicAccessBlock
PutBucketRequestPayment PutBucketTagging PutBucketVersioning PutBucketWebsite PutEncryptionConfiguration
PutIntelligentTieringConfiguration PutInventoryConfiguration PutJobTagging PutLifecycleConfiguration
PutMetricsConfiguration PutMultiRegionAccessPointPolicy PutObject PutObjectAcl PutObjectLegalHold PutObjectRetention
PutObjectTagging PutObjectVersionAcl PutObjectVersionTagging PutReplicationConfiguration
PutStorageLensConfiguration PutStorageLensConfigurationTagging ReplicateDelete ReplicateObject ReplicateTags
ResetBucketReplicationState RestoreObject SubmitMultiRegionAccessPointRoutes TagResource UntagResource UpdateJobPriority UpdateJobStatus
UpdateStorageLensGroup`;

const IAM = `AddClientIDToOpenIDConnectProvider AddRoleToInstanceProfile AddUserToGroup AttachGroupPolicy AttachRolePolicy
AttachUserPolicy ChangePassword CreateAccessKey CreateAccountAlias CreateGroup CreateInstanceProfile CreateLoginProfile
CreateOpenIDConnectProvider CreatePolicy CreatePolicyVersion CreateRole CreateSAMLProvider CreateServiceLinkedRole
CreateServiceSpecificCredential CreateUser CreateVirtualMFADevice DeactivateMFADevice DeleteAccessKey
DeleteAccountAlias DeleteAccountPasswordPolicy DeleteGroup DeleteGroupPolicy DeleteInstanceProfile
DeleteLoginProfile DeleteOpenIDConnectProvider DeletePolicy DeletePolicyVersion DeleteRole
DeleteRolePermissionsBoundary DeleteRolePolicy DeleteSAMLProvider DeleteSSHPublicKey DeleteServerCertificate
DeleteServiceLinkedRole DeleteServiceSpecificCredential DeleteSigningCertificate DeleteUser
DeleteUserPermissionsBoundary DeleteUserPolicy DeleteVirtualMFADevice DetachGroupPolicy DetachRolePolicy
DetachUserPolicy EnableMFADevice GenerateCredentialReport GenerateServiceLastAccessedDetails GetAccessKeyLastUsed
GetAccountAuthorizationDetails GetAccountPasswordPolicy GetAccountSummary GetContextKeysForCustomPolicy
GetContextKeysForPrincipalPolicy GetCredentialReport GetGroup GetGroupPolicy GetInstanceProfile GetLoginProfile
GetOpenIDConnectProvider GetPolicy GetPolicyVersion GetRole GetRolePolicy GetSAMLProvider GetSSHPublicKey
GetServerCertificate GetServiceLastAccessedDetails GetServiceLinkedRoleDeletionStatus GetUser GetUserPolicy
ListAccessKeys ListAccountAliases ListAttachedGroupPolicies ListAttachedRolePolicies ListAttachedUserPolicies
ListEntitiesForPolicy ListGroupPolicies ListGroups ListGroupsForUser ListInstanceProfileTags ListInstanceProfiles
ListInstanceProfilesForRole ListMFADeviceTags ListMFADevices ListOpenIDConnectProviderTags
ListOpenIDConnectProviders ListPolicies ListPolicyTags ListPolicyVersions ListRolePolicies ListRoleTags ListRoles
ListSAMLProviderTags ListSAMLProviders ListSSHPublicKeys ListServerCertificateTags ListServerCertificates
ListServiceSpecificCredentials ListSigningCertificates ListUserPolicies ListUserTags ListUsers ListVirtualMFADevices
PassRole PutGroupPolicy PutRolePermissionsBoundary PutRolePolicy PutUserPermissionsBoundary PutUserPolicy
RemoveClientIDFromOpenIDConnectProvider RemoveRoleFromInstanceProfile RemoveUserFromGroup
ResetServiceSpecificCredential ResyncMFADevice SetDefaultPolicyVersion SetSecurityTokenServicePreferences
SimulateCustomPolicy SimulatePrincipalPolicy TagInstanceProfile TagMFADevice TagOpenIDConnectProvider TagPolicy
TagRole TagSAMLProvider TagServerCertificate TagUser UntagInstanceProfile UntagMFADevice UntagOpenIDConnectProvider
UntagPolicy UntagRole UntagSAMLProvider UntagServerCertificate UntagUser UpdateAccessKey UpdateAccountPasswordPolicy
UpdateAssumeRolePolicy UpdateGroup UpdateLoginProfile UpdateOpenIDConnectProviderThumbprint UpdateRole
UpdateRoleDescription UpdateSAMLProvider UpdateSSHPublicKey UpdateServerCertificate UpdateServiceSpecificCredential
UpdateSigningCertificate UpdateUser UploadSSHPublicKey UploadServerCertificate UploadSigningCertificate`;

const STS = `AssumeRole AssumeRoleWithSAML AssumeRoleWithWebIdentity AssumeRoleWithLDAPIdentity DecodeAuthorizationMessage
GetAccessKeyInfo GetCallerIdentity GetFederationToken GetServiceBearerToken GetSessionToken SetSourceIdentity TagSession`;

// MinIO's admin actions (github.com/minio/pkg policy/admin-action.go).
const ADMIN = `Heal Decommission Rebalance StorageInfo Prometheus DataUsageInfo ForceUnlock TopLocksInfo Profiling ServerTrace
ConsoleLog KMSEnable KMSBackup KMSRestore KMSCreateKey KMSKeyStatus KMSKeyRotate ServerInfo OBDInfo LicenseInfo
BandwidthMonitor InspectData ServerUpdate ServiceRestart ServiceStop ServiceFreeze ServiceCordon ConfigUpdate
CreateUser DeleteUser ListUsers EnableUser DisableUser GetUser ChangeMyPassword SiteReplicationAdd
SiteReplicationDisable SiteReplicationRemove SiteReplicationResync SiteReplicationInfo SiteReplicationOperation
CreateServiceAccount UpdateServiceAccount RemoveServiceAccount ListServiceAccounts ListTemporaryAccounts
AddUserToGroup RemoveUserFromGroup GetGroup ListGroups EnableGroup DisableGroup CreatePolicy DeletePolicy GetPolicy
AttachUserOrGroupPolicy UpdatePolicyAssociation ListUserPolicies SetBucketQuota GetBucketQuota
SetBucketCompression GetBucketCompression SetBucketTarget GetBucketTarget ReplicationDiff ImportBucketMetadata
ExportBucketMetadata SetTier ListTier ExportIAM ImportIAM ListBatchJobs DescribeBatchJob StartBatchJob
CancelBatchJob GenerateBatchJob`;

const list = (service: string, names: string) => names.split(/\s+/).map((n) => `${service}:${n}`.toLowerCase());

/** Every known action, lower-cased (`s3:getobject`), grouped by its service prefix. */
export const KNOWN_ACTIONS: ReadonlyMap<string, readonly string[]> = new Map([
  ['s3', list('s3', S3)],
  ['iam', list('iam', IAM)],
  ['sts', list('sts', STS)],
  ['admin', list('admin', ADMIN)],
]);

const ALL = new Set([...KNOWN_ACTIONS.values()].flat());

/**
 * Why an action pattern (as written in a policy) is not acceptable, or undefined when it is: `*`, a known
 * service with a pattern, or a known action. `services` limits the services allowed (bucket policies: s3).
 */
export function actionProblem(pattern: string, services: readonly string[]): string | undefined {
  if (pattern === '*') return undefined;
  const colon = pattern.indexOf(':');
  const service = colon < 0 ? '' : pattern.slice(0, colon).toLowerCase();
  if (!services.includes(service)) return `the action ${JSON.stringify(pattern.slice(0, 128))} is not valid here`;
  const name = pattern.slice(colon + 1);
  if (name === '' || /[*?]/.test(name)) return name === '' ? `the action ${pattern} has no name` : undefined;
  return ALL.has(pattern.toLowerCase()) ? undefined : `unknown action ${JSON.stringify(pattern.slice(0, 128))}`;
}
