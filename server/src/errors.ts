// The one S3 error table: every layer throws S3Error with a code from here; only the HTTP edge turns it
// into an XML body. Status and default message follow AWS's "Error responses" reference.
import type { SelectErrorCode } from '@cairn/select-engine';

export const S3_ERRORS = {
  AccessDenied: [403, 'Access Denied.'],
  BadDigest: [400, 'The Content-MD5 or checksum value that you specified did not match what the server received.'],
  BucketAlreadyExists: [409, 'The requested bucket name is not available.'],
  BucketAlreadyOwnedByYou: [409, 'Your previous request to create the named bucket succeeded and you already own it.'],
  BucketNotEmpty: [409, 'The bucket you tried to delete is not empty.'],
  EntityTooLarge: [400, 'Your proposed upload exceeds the maximum allowed object size.'],
  EntityTooSmall: [400, 'Your proposed upload is smaller than the minimum allowed object size.'],
  IncompleteBody: [400, 'You did not provide the number of bytes specified by the Content-Length HTTP header.'],
  InternalError: [500, 'We encountered an internal error. Please try again.'],
  InvalidArgument: [400, 'Invalid Argument'],
  InvalidBucketName: [400, 'The specified bucket is not valid.'],
  InvalidEncryptionAlgorithmError: [
    400,
    'The encryption request you specified is not valid. The valid value is AES256.',
  ],
  InvalidBucketState: [409, 'The request is not valid with the current state of the bucket.'],
  InvalidDigest: [400, 'The Content-MD5 or checksum value that you specified is not valid.'],
  InvalidPart: [
    400,
    "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
  ],
  InvalidPartOrder: [400, 'The list of parts was not in ascending order. Parts must be ordered by part number.'],
  InvalidObjectState: [403, 'The operation is not valid for the current state of the object.'],
  InvalidRange: [416, 'The requested range is not satisfiable'],
  InvalidRequest: [400, 'Invalid Request'],
  InvalidRetentionPeriod: [400, 'The retention period must be a positive integer.'],
  InvalidStorageClass: [400, 'The storage class you specified is not valid.'],
  KeyTooLongError: [400, 'Your key is too long.'],
  NoSuchPublicAccessBlockConfiguration: [404, 'The public access block configuration was not found'],
  OwnershipControlsNotFoundError: [404, 'The bucket ownership controls were not found'],
  InvalidBucketAclWithObjectOwnership: [
    400,
    "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
  ],
  AccessControlListNotSupported: [400, 'The bucket does not allow ACLs'],
  MalformedACLError: [
    400,
    'The XML you provided was not well-formed or did not validate against our published schema.',
  ],
  UnresolvableGrantByEmailAddress: [400, 'The email address you provided does not match any account on record.'],
  UnexpectedContent: [400, 'This request does not support content.'],
  MalformedTrailerError: [
    400,
    'The request contained trailing data that was not well-formed or did not conform to our published schema.',
  ],
  MalformedXML: [400, 'The XML you provided was not well-formed or did not validate against our published schema.'],
  MetadataTooLarge: [400, 'Your metadata headers exceed the maximum allowed metadata size.'],
  MethodNotAllowed: [405, 'The specified method is not allowed against this resource.'],
  // As S3 words it, without a final period: clients (minio-go) compare the message byte for byte.
  NoSuchBucket: [404, 'The specified bucket does not exist'],
  NoSuchKey: [404, 'The specified key does not exist.'],
  NoSuchUpload: [
    404,
    'The specified upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.',
  ],
  NoSuchVersion: [404, 'The specified version does not exist.'],
  NotImplemented: [501, 'A header you provided implies functionality that is not implemented.'],
  PreconditionFailed: [412, 'At least one of the preconditions you specified did not hold.'],
  ConditionalRequestConflict: [
    409,
    'A conflicting operation occurred. If using PutObject you can retry the request. If using CompleteMultipartUpload you should create a new upload and retry.',
  ],
  ServiceUnavailable: [503, 'Service is unable to handle request.'],
  SlowDown: [503, 'Please reduce your request rate.'],
  // KMS errors (AWS KMS's codes, as S3 passes them on for SSE-KMS).
  'KMS.NotFoundException': [400, 'The specified KMS key does not exist.'],
  'KMS.AlreadyExistsException': [409, 'The specified KMS key already exists.'],
  // The key exists but refuses the operation (a Vault transit key whose min_decryption_version is past the version
  // an object's data key was sealed with).
  'KMS.DisabledException': [400, 'The specified KMS key cannot be used for this operation.'],
  // The KMS did not answer, or failed (Vault down, refused its token): nothing is stored or read meanwhile.
  'KMS.KMSInternalException': [500, 'The KMS could not be used. Please try again.'],
  // MinIO's code for encrypted data that fails authentication (MinIO answers 206; a failed read is a 500).
  XMinioObjectTampered: [500, 'The requested object was modified and may be compromised.'],
  // The NAS gateway (storage/nas): keys that no file in the served folder can have (MinIO's codes of its FS mode).
  XMinioInvalidObjectName: [400, 'Object name contains unsupported characters.'],
  XMinioParentIsObject: [400, 'Object-prefix is already an object, please choose a different object-prefix name.'],
  XMinioObjectExistsAsDirectory: [400, 'Object name already exists as a directory.'],
  XMinioStorageFull: [
    507,
    'Storage backend has reached its minimum free drive threshold. Please delete a few objects to proceed.',
  ],
  // Storage could not reach enough drives (or nodes) for the operation: clients read MinIO's codes (wireCode).
  // A pool's decommission cannot start or stop now (MinIO's code for errDecommissionAlreadyRunning and kin).
  XMinioDecommissionNotAllowed: [400, 'Decommission is not allowed now'],
  InsufficientWriteQuorum: [503, 'Resource requested is unwritable, please reduce your request rate'],
  InsufficientReadQuorum: [503, 'Resource requested is unreadable, please reduce your request rate'],
  // Added by the HTTP layer (issue 4): authentication, request framing and bucket subresources.
  AuthorizationHeaderMalformed: [400, 'The authorization header is malformed.'],
  AuthorizationQueryParametersError: [400, 'Error parsing the X-Amz-Credential parameter.'],
  BadRequest: [400, 'Bad Request'],
  CORSForbidden: [
    403,
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
  ],
  RequestHeaderSectionTooLarge: [400, 'Your request header section exceeds the maximum size.'],
  ExpiredToken: [400, 'The provided token has expired.'],
  IllegalLocationConstraintException: [400, 'The specified location-constraint is not valid.'],
  IllegalVersioningConfigurationException: [400, 'The versioning configuration specified in the request is invalid.'],
  InvalidAccessKeyId: [403, 'The AWS access key ID you provided does not exist in our records.'],
  InvalidLocationConstraint: [400, 'The specified location constraint is not valid.'],
  InvalidPartNumber: [416, 'The requested partnumber is not satisfiable'],
  InvalidPolicyDocument: [
    400,
    'The content of the form does not meet the conditions specified in the policy document.',
  ],
  InvalidTag: [400, 'The TagSet you have provided is invalid.'],
  InvalidURI: [400, 'Could not parse the specified URI.'],
  MalformedPOSTRequest: [400, 'The body of your POST request is not well-formed multipart/form-data.'],
  MalformedPolicy: [400, 'Policy has invalid resource.'],
  MissingContentLength: [411, 'You must provide the Content-Length HTTP header.'],
  MissingRequestBodyError: [400, 'Request Body is empty.'],
  MissingSecurityHeader: [400, 'Your request is missing a required header.'],
  NoSuchBucketPolicy: [404, 'The bucket policy does not exist.'],
  NoSuchCORSConfiguration: [404, 'The CORS configuration does not exist.'],
  NoSuchLifecycleConfiguration: [404, 'The lifecycle configuration does not exist.'],
  NoSuchObjectLockConfiguration: [404, 'The specified object does not have a ObjectLock configuration.'],
  NoSuchTagSet: [404, 'The TagSet does not exist.'],
  ObjectLockConfigurationNotFoundError: [404, 'Object Lock configuration does not exist for this bucket.'],
  RequestTimeTooSkewed: [403, "The difference between the request time and the server's time is too large."],
  ServerSideEncryptionConfigurationNotFoundError: [404, 'The server side encryption configuration was not found.'],
  SignatureDoesNotMatch: [
    403,
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  ],
  XAmzContentSHA256Mismatch: [400, "The provided 'x-amz-content-sha256' header does not match what was computed."],
  // Identity and access (issue 15): STS session tokens, and the IAM, STS and MinIO admin APIs.
  InvalidToken: [400, 'The provided token is malformed or otherwise invalid.'],
  InvalidClientTokenId: [403, 'The security token included in the request is invalid.'],
  InvalidAction: [400, 'The action or operation requested is invalid.'],
  InvalidInput: [400, 'The input is not valid.'],
  InvalidParameterValue: [400, 'An invalid or out-of-range value was supplied for the input parameter.'],
  InvalidQueryParameter: [400, 'The AWS query string is malformed or does not adhere to AWS standards.'],
  ValidationError: [400, 'The input fails to satisfy the constraints specified by the service.'],
  InvalidIdentityToken: [400, 'The web identity token that was passed could not be validated.'],
  ExpiredTokenException: [400, 'The web identity token that was passed is expired.'],
  IDPCommunicationError: [
    400,
    'The identity provider that was asked to verify the incoming identity token could not be reached.',
  ],
  MalformedPolicyDocument: [400, 'The policy document is malformed.'],
  PackedPolicyTooLarge: [
    400,
    'The request was rejected because the total packed size of the session policies and session tags combined was \
too large.',
  ],
  NoSuchEntity: [404, 'The request was rejected because it referenced an entity that does not exist.'],
  EntityAlreadyExists: [409, 'The request was rejected because it attempted to create a resource that already exists.'],
  DeleteConflict: [
    409,
    'The request was rejected because it attempted to delete a resource that has attached entities.',
  ],
  LimitExceeded: [409, 'The request was rejected because it attempted to create resources beyond the current limits.'],
  XMinioAdminNoSuchUser: [404, 'The specified user does not exist.'],
  XMinioAdminNoSuchGroup: [404, 'The specified group does not exist.'],
  XMinioAdminNoSuchPolicy: [404, 'The canned policy does not exist.'],
  XMinioAdminNoSuchServiceAccount: [404, 'The specified service account is not found.'],
  XMinioAdminNoSuchConfigTarget: [404, 'No such named configuration target exists'],
  XMinioAdminInvalidArgument: [400, 'Invalid arguments specified.'],
  // MinIO's server configuration errors (cmd/api-errors.go, toAdminAPIErr's config.Err).
  XMinioConfigError: [400, 'Configuration error'],
  XMinioAdminConfigBadJSON: [400, 'JSON configuration provided is of incorrect format'],
  XMinioAdminConfigTooLarge: [400, 'Configuration data provided exceeds the allowed maximum of 262144 bytes'],
  // Remote tiers (MinIO's admin tier API, api/tier): MinIO's codes and statuses.
  XMinioAdminRemoteTargetNotFoundError: [404, 'The remote target does not exist'],
  XMinioAdminReplicationRemoteConnectionError: [503, 'Remote service connection error'],
  XMinioAdminRemoteIdenticalToSource: [400, 'The remote target cannot be identical to source'],
  XMinioAdminBucketRemoteAlreadyExists: [400, 'The remote target already exists'],
  XMinioAdminRemoteRemoveDisallowed: [400, 'This ARN is in use by an existing configuration'],
  XMinioAdminRemoteARNTypeInvalid: [400, 'The bucket remote ARN type is not valid'],
  XMinioAdminRemoteArnInvalid: [400, 'The bucket remote ARN does not have correct format'],
  RemoteTargetNotVersionedError: [400, 'The remote target does not have versioning enabled'],
  ReplicationSourceNotVersionedError: [400, 'The replication source does not have versioning enabled'],
  ReplicationConfigurationNotFoundError: [404, 'The replication configuration was not found'],
  RemoteDestinationNotFoundError: [404, 'The remote destination bucket does not exist'],
  XMinioReplicationNoExistingObjects: [400, 'No matching ExistingObjects rule enabled'],
  XMinioAdminTierAlreadyExists: [409, 'Specified remote tier already exists'],
  // Bucket quota (MinIO's admin set-bucket-quota, api/quota.ts): a write that would go over a hard quota.
  XMinioAdminBucketQuotaExceeded: [400, 'Bucket quota exceeded'],
  XMinioAdminTierNotFound: [404, 'Specified remote tier was not found'],
  XMinioAdminTierNameNotUpperCase: [400, 'Tier name must be in uppercase'],
  XMinioAdminTierNameEmpty: [400, 'remote tier name empty'],
  XMinioAdminTierReserved: [400, 'Cannot use reserved tier name'],
  XMinioAdminTierBucketNotFound: [400, 'Remote tier bucket not found'],
  XMinioAdminTierInvalidCredentials: [400, 'Invalid remote tier credentials'],
  XMinioAdminTierMissingCredentials: [403, 'Specified remote credentials are empty'],
  XMinioAdminTierBackendInUse: [409, 'Specified remote tier is already in use'],
  XMinioAdminTierBackendNotEmpty: [400, 'Specified remote backend is not empty'],
  XMinioAdminTierTypeUnsupported: [400, 'Specified tier type is unsupported'],
  XMinioAdminTierInvalidConfig: [400, 'Unable to setup remote tier, check tier configuration'],
  XMinioAdminTierInvalidConfigVersion: [400, 'invalid tier config version'],
  XMinioAdminTierInsufficientPermissions: [400, 'The remote tier refused an operation a tier needs'],
  XMinioHealNoSuchProcess: [400, 'No such heal process is running on the server'],
  XMinioHealInvalidClientToken: [400, 'Client token mismatch'],
  XMinioHealMissingBucket: [
    400,
    'A heal start request with a non-empty object-prefix parameter requires a bucket to be specified.',
  ],
} as const satisfies Record<string, readonly [number, string]>;

export type S3ErrorCode = keyof typeof S3_ERRORS;

/** A typed error with a stable S3 code. `resource` and extra fields go into the XML body. */
/**
 * The code a client reads for `code` where it differs from Cairn's name: the storage quorum failures as MinIO
 * answers them (SlowDownWrite / SlowDownRead, 503: SDKs back off and retry), a CORS refusal as S3's.
 */
const WIRE_CODES: Record<string, string> = {
  InsufficientWriteQuorum: 'SlowDownWrite',
  InsufficientReadQuorum: 'SlowDownRead',
  CORSForbidden: 'AccessForbidden',
};

export function wireCode(code: string): string {
  return WIRE_CODES[code] ?? code;
}

export class S3Error extends Error {
  readonly code: S3ErrorCode | SelectErrorCode;
  readonly status: number;
  readonly extra: Record<string, string>;
  /** Response headers the answer carries besides the XML body (x-amz-delete-marker, connection: close). */
  readonly headers: Record<string, string> = {};

  /** `status` overrides the table's where S3 answers one code with two statuses (presigned expiry: 403, not 400). */
  constructor(code: S3ErrorCode, message?: string, extra?: Record<string, string>, status?: number);
  /** S3 Select's codes keep their own table (select-engine's SELECT_ERRORS): status and message come with them. */
  constructor(code: SelectErrorCode, message: string, extra: Record<string, string>, status: number);
  constructor(
    code: S3ErrorCode | SelectErrorCode,
    message?: string,
    extra: Record<string, string> = {},
    status?: number,
  ) {
    const known = (S3_ERRORS as Record<string, readonly [number, string] | undefined>)[code];
    super(message ?? known?.[1] ?? code);
    this.name = 'S3Error';
    this.code = code;
    this.status = status ?? known?.[0] ?? 400;
    this.extra = extra;
  }

  /** Adds response headers to this error's answer; returns the error, to throw it. */
  withHeaders(headers: Record<string, string>): this {
    Object.assign(this.headers, headers);
    return this;
  }
}

export function isS3Error(e: unknown): e is S3Error {
  return e instanceof S3Error;
}
