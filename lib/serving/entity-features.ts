// Rows that name an entity get their features from the online store: a row carrying a feature view's join
// key (e.g. `{"customer_id": "c42"}`) is filled with that entity's latest values of the view's features the
// model takes, and values sent in the row override them (null included: it asks for a missing value).
import { ValidationError } from '../errors.js';
import type { FeatureValue, OnlineFeatures } from '../features/online.js';
import type { OnlineStore } from '../features/online-store.js';
import type { ModelSignature } from '../training/types.js';
import type { FeatureRow } from './predictor.js';
import { isStorableText, STORABLE_TEXT } from '../util/storable-text.js';
import type { EntityView } from './serving-config.js';

export type OnMissing = 'impute' | 'reject';

/** Which entity a row named in one view, and what the store had for it. */
export interface EntityLookup {
  view: string;
  entityId: string;
  status: OnlineFeatures['status'];
}

export interface FilledRows {
  rows: FeatureRow[];
  /** Per row, the entities it named (empty when it named none). */
  lookups: EntityLookup[][];
}

/** The entity id a row names for `view`, or undefined when it names none. */
function entityIdOf(row: FeatureRow, view: EntityView, i: number): string | undefined {
  const v = row[view.joinKey];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  if (typeof v !== 'string' || v.length === 0) {
    throw new ValidationError(`row ${i}: ${view.joinKey} names an entity of feature view ${view.name} and must be a non-empty string or an integer (got ${JSON.stringify(v)}).`);
  }
  // No stored entity has such an id, and the online store's Postgres lookup would fail on it (a 500, not a 400).
  if (!isStorableText(v)) throw new ValidationError(`row ${i}: ${view.joinKey} names an entity of feature view ${view.name} and must be ${STORABLE_TEXT}.`);
  return v;
}

/** A stored value as the signature's feature type takes it. */
function asFeature(v: FeatureValue, type: 'float' | 'string'): number | string | null {
  if (v === null) return null;
  if (type === 'string') return String(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return typeof v === 'number' ? v : Number.isFinite(Number(v)) ? Number(v) : null;
}

/**
 * Merges online values into rows (pure). `readings` holds, per view, the store's answer for each row that
 * named an entity of it (by row index). With `reject`, a missing or expired entity is a ValidationError
 * naming the row, entity, view and the features it should have given.
 */
export function mergeEntityFeatures(
  rows: FeatureRow[],
  views: EntityView[],
  readings: Map<string, Map<number, OnlineFeatures>>,
  signature: Pick<ModelSignature, 'features'>,
  onMissing: OnMissing,
): FilledRows {
  const keys = new Set(views.map((v) => v.joinKey));
  // The signature's features each view gives, found once per request rather than per row.
  const given = views.map((view) => signature.features.filter((f) => view.features.includes(f.name)));
  const problems: string[] = [];
  const lookups: EntityLookup[][] = [];
  const filled = rows.map((row, i) => {
    const out: FeatureRow = {};
    const named: EntityLookup[] = [];
    for (let j = 0; j < views.length; j++) {
      const view = views[j];
      const found = readings.get(view.name)?.get(i);
      if (!found) continue;
      named.push({ view: view.name, entityId: found.entityId, status: found.status });
      const wanted = given[j].filter((f) => !(f.name in row));
      if (found.status !== 'present' && onMissing === 'reject' && wanted.length > 0) {
        const why = found.status === 'expired' ? `older than the view's TTL of ${found.ttlSeconds} s` : 'never materialized';
        problems.push(`row ${i}: entity ${view.joinKey}=${JSON.stringify(found.entityId)} has no value in feature view ${view.name} (${found.status}: ${why}) for ${wanted.map((f) => f.name).join(', ')}`);
        continue;
      }
      for (const f of wanted) out[f.name] = asFeature(found.values[f.name] ?? null, f.type);
    }
    for (const [k, v] of Object.entries(row)) if (!keys.has(k)) out[k] = v;
    lookups.push(named);
    return out;
  });
  if (problems.length > 0) {
    const shown = problems.slice(0, 10).join('; ');
    throw new ValidationError(`Features unavailable in the online store: ${shown}${problems.length > 10 ? `; and ${problems.length - 10} more` : ''}. Send the values in the row, or materialize the view.`);
  }
  return { rows: filled, lookups };
}

/** True when some row names an entity of one of the views. */
export function namesEntities(rows: FeatureRow[], views: EntityView[]): boolean {
  return views.length > 0 && rows.some((r) => views.some((v) => r[v.joinKey] !== undefined && r[v.joinKey] !== null));
}

/** Reads every named entity (one store read per view, distinct ids) and merges the values into the rows. */
export async function fillFromOnlineStore(
  store: Pick<OnlineStore, 'read'>,
  rows: FeatureRow[],
  views: EntityView[],
  signature: Pick<ModelSignature, 'features'>,
  onMissing: OnMissing,
): Promise<FilledRows> {
  const readings = new Map<string, Map<number, OnlineFeatures>>();
  await Promise.all(
    views.map(async (view) => {
      const byRow = new Map<number, string>();
      rows.forEach((row, i) => {
        const id = entityIdOf(row, view, i);
        if (id !== undefined) byRow.set(i, id);
      });
      if (byRow.size === 0) return;
      const ids = [...new Set(byRow.values())];
      const answers = await store.read(view.name, ids);
      const byId = new Map(ids.map((id, k) => [id, answers[k]]));
      readings.set(view.name, new Map([...byRow].map(([i, id]) => [i, byId.get(id)!])));
    }),
  );
  return mergeEntityFeatures(rows, views, readings, signature, onMissing);
}
