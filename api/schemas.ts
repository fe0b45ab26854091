// Schemas shared by several routes (TypeBox: JSON schema with static types).
import { Type } from 'typebox';
import { ROLLOUT_STRATEGIES } from '../lib/serving/rollout.js';

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

/** How a version is put into service: POST /v1/rollouts, and the `rollout` of a training run; resolveRollout checks what a schema cannot. */
export const RolloutOptionsSchema = Type.Object(
  {
    strategy: Type.Union(ROLLOUT_STRATEGIES.map((s) => Type.Literal(s))),
    steps: Type.Optional(Type.Array(Type.Number({ exclusiveMinimum: 0, maximum: 100 }), { minItems: 1, maxItems: 20, description: 'Canary percentages, increasing (default 5, 25, 50, 100)' })),
    stepSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Seconds per canary step, or the shadow duration (default 300)' })),
    maxInconclusiveWaits: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    onInconclusive: Type.Optional(Type.Union([Type.Literal('rollback'), Type.Literal('proceed')])),
    thresholds: Type.Optional(
      Type.Object(
        {
          minRequests: Type.Optional(Type.Integer({ minimum: 1 })),
          maxErrorRateIncrease: Type.Optional(Type.Number({ minimum: 0 })),
          maxLatencyRatio: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
          latencyFloorMs: Type.Optional(Type.Number({ minimum: 0 })),
          maxScorePsi: Type.Optional(Type.Number({ minimum: 0 })),
          maxAccuracyDrop: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Live quality: canary accuracy on feedback labels at most this below stable (default 0.05)' })),
          maxRmseRatio: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: "Live quality: a regressor canary's RMSE at most this multiple of stable's (default 1.2)" })),
        },
        { additionalProperties: false },
      ),
    ),
    shadowFraction: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    promoteAfterShadow: Type.Optional(Type.Boolean()),
    approval: Type.Optional(
      Type.Object(
        {
          approvers: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { uniqueItems: true, description: "Who may decide; default anyone with the approver role but the rollout's starter" })),
          deadlineSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Rolled back without a decision by then; default: waits' })),
        },
        { additionalProperties: false, description: 'Canary only: wait for POST /v1/rollouts/{id}/decision before the last step (promotion)' },
      ),
    ),
  },
  { additionalProperties: false },
);

