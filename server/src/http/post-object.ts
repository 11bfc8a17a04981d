// POST policy form uploads (browser uploads): placeholder until the multipart/form-data parser lands.
import type { IncomingMessage } from 'node:http';
import type { ApiLogger, S3Response } from '../api/index.js';
import { S3Error } from '../errors.js';
import type { HttpContext } from './dispatch.js';

export async function postObject(_ctx: HttpContext, _raw: IncomingMessage, _bucket: string, _requestId: string, _log: ApiLogger): Promise<S3Response> {
  throw new S3Error('NotImplemented', 'POST policy uploads are not implemented yet');
}
