// @cairn/server: start a Cairn server from code (tests, benchmarks, notebooks).
export { startServer, type CairnServer, type ServerOptions } from './main.js';
export { nasGateway, s3Gateway } from './storage/index.js';
export type { SpliceMode } from './storage/object-layer.js';
export { DEV_ROOT_PASSWORD, DEV_ROOT_USER, type CredentialConfig } from './http/auth/credentials.js';
export { TlsCertificates, type ReloadResult } from './http/tls.js';
export type { EventRecord } from './api/notify/event.js';
