// What a feedback label must look like for a model version: pure checks shared by the API and tests.
import type { ModelSignature } from '../training/types.js';

export type FeedbackLabel = string | number | boolean;

/** The label a version's signature expects: one of its classes, or a finite number for a regressor. */
export function labelProblem(label: unknown, signature: Pick<ModelSignature, 'classes' | 'task'>): string | null {
  if (signature.task === 'regression') {
    return typeof label === 'number' && Number.isFinite(label) ? null : `the model is a regressor; the label must be a finite number, got ${describe(label)}`;
  }
  const classes = signature.classes;
  const match = classes.find((c) => typeof c === typeof label && String(c) === String(label));
  if (match !== undefined) return null;
  const sameText = classes.find((c) => String(c) === String(label));
  if (sameText !== undefined) return `label ${describe(label)} has the wrong type: the model's classes are ${typeof sameText}s (${classes.map((c) => JSON.stringify(c)).join(', ')})`;
  return `label ${describe(label)} is not one of the model's classes (${classes.map((c) => JSON.stringify(c)).join(', ')})`;
}

function describe(v: unknown): string {
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Index of a label in the signature's classes (by text, the way probabilities are keyed), or -1. */
export function classIndex(label: unknown, classes: ReadonlyArray<string | number>): number {
  return classes.findIndex((c) => String(c) === String(label));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isPredictionId(id: string): boolean {
  return UUID.test(id);
}
