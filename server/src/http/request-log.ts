// Fastify's per-request log lines at debug level instead of info: each request wrote two synchronous pino lines
// ("incoming request", "request completed"), about 3% of a small GET's event-loop time, and an operator who
// wants to watch requests has `cairn admin trace` (MinIO, likewise, logs no requests; `mc admin trace` shows
// them). CAIRN_LOG_LEVEL=debug brings the lines back. Errors keep their level: a request that failed in the
// server (5xx, a stream that broke with headers sent) is still logged at the default level.
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

export class RequestLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, _request: FastifyRequest, reply: FastifyReply): void {
    if (error) reply.log.error({ res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }

  /** A 4xx from fastify's default handler is the client's; a 5xx stays an error. */
  override defaultErrorLog(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    if (reply.statusCode >= 500) reply.log.error({ req: request, res: reply, err: error }, error?.message);
    else reply.log.debug({ res: reply, err: error }, error?.message);
  }

  /** A client that hangs up mid-answer is ordinary (debug); another stream error stays a warning. */
  override streamError(error: Error, _request: FastifyRequest, reply: FastifyReply): void {
    if ((error as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE')
      reply.log.debug({ res: reply }, 'stream closed prematurely');
    else reply.log.warn({ err: error }, 'response terminated with an error with headers already sent');
  }

  override routeNotFound(request: FastifyRequest): void {
    request.log.debug(`Route ${request.raw.method}:${request.raw.url} not found`);
  }
}
