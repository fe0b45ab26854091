// Approval rules shared by the release workflow's Update validator and Signal handler. Pure: no I/O.
import { ConflictError, ValidationError } from '../errors.js';
import type { ApprovalDecision } from '../training/types.js';

/** Throws when a decision is malformed or arrives when nothing awaits one. */
export function validateDecision(decision: ApprovalDecision | undefined, awaitingApproval: boolean): void {
  if (!awaitingApproval) throw new ConflictError('This run is not waiting for approval.');
  if (!decision || typeof decision.approver !== 'string' || decision.approver.trim() === '') {
    throw new ValidationError('An approval decision needs a non-empty approver.');
  }
  if (typeof decision.reason !== 'string' || decision.reason.trim() === '') {
    throw new ValidationError('An approval decision needs a non-empty reason.');
  }
}
