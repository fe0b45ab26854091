// Schemas shared by several routes (TypeBox: JSON schema with static types).
import { Type } from 'typebox';

export const ErrorResponse = Type.Object({ error: Type.String(), code: Type.String() }, { $id: 'ErrorResponse' });

/** Standard error answers, referenced by every route's `response`. */
export const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, Type.Ref('ErrorResponse')]));

/** A release decision as the training workflow records it. */
export const DecisionRecord = Type.Object({
  approver: Type.String(),
  reason: Type.String(),
  approved: Type.Boolean(),
  at: Type.String(),
  via: Type.String({ description: 'update, signal or deadline' }),
});

/** Who may approve and how long a release waits (lib/release/types.ts ApprovalPolicy). */
export const ApprovalPolicySchema = Type.Object(
  {
    approvers: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { uniqueItems: true })),
    reminderAfterSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    reminderWebhook: Type.Optional(Type.String({ pattern: '^https?://' })),
    deadlineSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  },
  { additionalProperties: false },
);
