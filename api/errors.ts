// The one place domain and Temporal errors become HTTP answers; 5xx never leak internals.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, TemporalFailure, WorkflowNotFoundError } from '@temporalio/common';
import { MlcycleError, OverloadedError } from '../lib/errors.js';

const STATUS_BY_TYPE: Record<string, number> = {
  ValidationError: 400,
  DatasetSourceError: 400,
  ConfigError: 400,
  UnauthorizedError: 401,
  ForbiddenError: 403,
  NotFoundError: 404,
  ConflictError: 409,
  OnnxParityError: 422,
  DataContractError: 422,
  OverloadedError: 503,
  ScoringTimeoutError: 504,
  ArtifactIntegrityError: 500,
};

export interface ErrorBody {
  error: string;
  code: string;
}

/** The innermost ApplicationFailure in a Temporal failure chain: that is where the domain error type lives. */
function applicationFailure(err: unknown): ApplicationFailure | undefined {
  let found: ApplicationFailure | undefined;
  let cur: unknown = err;
  while (cur instanceof Error) {
    if (cur instanceof ApplicationFailure) found = cur;
    cur = (cur as TemporalFailure).cause;
  }
  return found;
}

/** Maps an error to a status and a body a user can act on. */
export function toHttpError(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof WorkflowNotFoundError) {
    return { status: 404, body: { error: `Workflow ${err.workflowId} was not found.`, code: 'NotFoundError' } };
  }
  if (err instanceof WorkflowFailedError || err instanceof WorkflowUpdateFailedError) {
    const app = applicationFailure(err);
    if (app?.type && STATUS_BY_TYPE[app.type] && STATUS_BY_TYPE[app.type] < 500) {
      return { status: STATUS_BY_TYPE[app.type], body: { error: app.message, code: app.type } };
    }
    return { status: 500, body: { error: `The workflow failed: ${app?.message ?? err.message}`, code: 'WorkflowFailed' } };
  }
  if (err instanceof MlcycleError) {
    const status = STATUS_BY_TYPE[err.name] ?? 500;
    const safe = status < 500 || err.name === 'OverloadedError' || err.name === 'ScoringTimeoutError';
    return { status, body: { error: safe ? err.message : 'Internal error; see the server log.', code: err.name } };
  }
  const fe = err as FastifyError;
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, body: { error: 'The request body is over the size limit of this route; send fewer rows per request.', code: 'PayloadTooLarge' } };
  }
  if (fe.validation) return { status: 400, body: { error: fe.message, code: 'ValidationError' } };
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: { error: fe.message, code: fe.code ?? 'BadRequest' } };
  }
  return { status: 500, body: { error: 'Internal error; see the server log.', code: 'InternalError' } };
}

/** The caller's fault (a 4xx by the table above): what serving uses to decide between a fallback and an error answer. */
export function isClientError(err: unknown): boolean {
  const { status } = toHttpError(err);
  return status >= 400 && status < 500;
}

export function errorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = toHttpError(err);
  // The limit is the route's, known only here.
  if (status === 413) body.error = `The request body is over this route's limit of ${request.routeOptions.bodyLimit} bytes; send fewer rows per request.`;
  if (status >= 500) request.log.error({ err }, 'request failed');
  if (err instanceof OverloadedError) void reply.header('retry-after', String(err.retryAfterSeconds));
  void reply.status(status).send(body);
}
