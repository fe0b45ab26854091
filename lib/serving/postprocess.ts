// Post-processing declared per model and applied to each answer after onnxruntime: a decision threshold
// for a binary classifier, clamping a regressor's prediction, then a map from model labels to the labels
// the caller's business uses. Pure.
import { Type, type Static } from 'typebox';
import { ValidationError } from '../errors.js';
import type { ModelSignature } from '../training/types.js';
import type { Prediction } from './predictor.js';

export const PostprocessSchema = Type.Object(
  {
    threshold: Type.Optional(
      Type.Object(
        {
          positiveClass: Type.Union([Type.String(), Type.Number()], { description: 'The class chosen when its probability reaches `value`; else the other class' }),
          value: Type.Number({ minimum: 0, maximum: 1 }),
        },
        { additionalProperties: false, description: 'Binary classifiers only: replaces the model\'s argmax label' },
      ),
    ),
    clamp: Type.Optional(
      Type.Object({ min: Type.Optional(Type.Number()), max: Type.Optional(Type.Number()) }, { additionalProperties: false, description: "Regressors only: bounds the prediction" }),
    ),
    labelMap: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]), { description: 'Model label (as text) -> answered label, applied last; labels not named pass unchanged' }),
    ),
  },
  { additionalProperties: false },
);
export type Postprocess = Static<typeof PostprocessSchema>;

/** An answered prediction after post-processing; `modelLabel` is what onnxruntime said. */
export interface PostprocessedPrediction extends Prediction {
  modelLabel: string | number;
}

/** Throws a ValidationError naming the field when the rules do not fit this signature. */
export function checkPostprocess(p: Postprocess, signature: Pick<ModelSignature, 'classes' | 'task'>, what: string): void {
  const regression = signature.task === 'regression';
  if (p.threshold) {
    if (regression || signature.classes.length !== 2) throw new ValidationError(`postprocess.threshold needs a binary classifier; ${what} ${regression ? 'is a regressor' : `has ${signature.classes.length} classes`}.`);
    if (!signature.classes.some((c) => String(c) === String(p.threshold!.positiveClass))) {
      throw new ValidationError(`postprocess.threshold.positiveClass ${JSON.stringify(p.threshold.positiveClass)} is not a class of ${what} (${signature.classes.join(', ')}).`);
    }
  }
  if (p.clamp) {
    if (!regression) throw new ValidationError(`postprocess.clamp needs a regressor; ${what} is a classifier.`);
    if (p.clamp.min !== undefined && p.clamp.max !== undefined && p.clamp.min > p.clamp.max) throw new ValidationError(`postprocess.clamp.min (${p.clamp.min}) is above max (${p.clamp.max}).`);
  }
}

/** Applies the rules to one version's predictions (checked against its signature first; a misfit is a plain Error). */
export function applyPostprocess(p: Postprocess, signature: Pick<ModelSignature, 'classes' | 'task'>, what: string, predictions: Prediction[]): PostprocessedPrediction[] {
  try {
    checkPostprocess(p, signature, what);
  } catch (err) {
    // A version registered after the rules were declared may not fit them: the server's problem, not the caller's.
    throw new Error(`The model's post-processing does not fit ${what}: ${(err as Error).message}`);
  }
  const positive = p.threshold ? signature.classes.find((c) => String(c) === String(p.threshold!.positiveClass))! : undefined;
  const negative = p.threshold ? signature.classes.find((c) => String(c) !== String(p.threshold!.positiveClass))! : undefined;
  return predictions.map((pred) => {
    let label = pred.label;
    if (p.threshold) label = (pred.probabilities[String(positive)] ?? 0) >= p.threshold.value ? positive! : negative!;
    if (p.clamp && typeof label === 'number') label = Math.min(p.clamp.max ?? Infinity, Math.max(p.clamp.min ?? -Infinity, label));
    const mapped = p.labelMap?.[String(label)];
    if (mapped !== undefined) label = mapped;
    return { ...pred, label, modelLabel: pred.label };
  });
}
