// POST /v1/feedback: labels for logged predictions (one or a batch), possibly days after the prediction.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { feedbackResult, recordFeedback, type FeedbackItem, type FeedbackResult } from '../../lib/feedback/feedback.js';

// A type list, not anyOf: Fastify's coercion would otherwise turn objects or null into strings.
const Label = Type.Unsafe<string | number | boolean>({ type: ['string', 'number', 'boolean'], description: "The true outcome: one of the model's classes, or a number for a regressor" });
const Item = Type.Object({ predictionId: Type.String({ minLength: 1, maxLength: 100 }), label: Label }, { additionalProperties: false });

const FeedbackBody = Type.Union([
  Item,
  Type.Object({ items: Type.Array(Item, { minItems: 1, maxItems: 10_000 }) }, { additionalProperties: false }),
]);

const Outcome = Type.Object({
  predictionId: Type.String(),
  status: Type.Integer({ description: '200 stored, 404 unknown prediction id, 400 label of the wrong type' }),
  outcome: Type.String({ description: 'accepted, replaced (an earlier label existed: the latest wins), unknown_prediction or invalid' }),
  modelName: Type.Optional(Type.String()),
  version: Type.Optional(Type.Integer()),
  previousLabel: Type.Optional(Type.Unknown()),
  error: Type.Optional(Type.String()),
});

const FeedbackResponse = Type.Object({
  accepted: Type.Integer(),
  replaced: Type.Integer(),
  rejected: Type.Integer(),
  items: Type.Array(Outcome),
});

const FeedbackError = Type.Object({ error: Type.String(), code: Type.String(), accepted: Type.Optional(Type.Integer()), replaced: Type.Optional(Type.Integer()), rejected: Type.Optional(Type.Integer()), items: Type.Optional(Type.Array(Outcome)) });

const feedbackRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/',
    { config: { roles: ['scorer'] }, schema: { body: FeedbackBody, response: { 200: FeedbackResponse, 400: FeedbackError, 404: FeedbackError } } },
    async (request, reply) => {
      const body = request.body;
      const items: FeedbackItem[] = 'items' in body ? body.items : [body];
      let result = await recordFeedback(app.deps.db, items);
      // A prediction answered a moment ago may still sit in the log's queue, or its write may commit just after
      // the lookup: write the queue and look again for the unknown ones only (the stored ones must not count twice).
      const unknown = items.filter((_, i) => result.items[i].status === 404);
      if (unknown.length > 0) {
        await app.predictionLog.flush();
        const retried = (await recordFeedback(app.deps.db, unknown)).items;
        result = feedbackResult(result.items.map((o) => (o.status === 404 ? retried.shift()! : o)));
      }
      if (result.accepted > 0) return reply.status(200).send(result);
      const status = result.items.some((i) => i.status === 400) ? 400 : 404;
      const first = result.items.find((i) => i.status === status);
      const error = items.length === 1 && first && 'error' in first ? first.error : `None of the ${items.length} labels was stored; see items for each one's reason.`;
      return reply.status(status).send({ error, code: status === 400 ? 'ValidationError' : 'NotFoundError', ...result } satisfies FeedbackResult & { error: string; code: string });
    },
  );
};

export default feedbackRoutes;
