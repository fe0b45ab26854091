// Filling rows that name an entity from the online store: request values win, missing/expired follow the policy.
import { describe, expect, it } from 'vitest';
import type { OnlineFeatures } from '../../../lib/features/online.js';
import type { OnlineStore } from '../../../lib/features/online-store.js';
import { fillFromOnlineStore, mergeEntityFeatures, namesEntities } from '../../../lib/serving/entity-features.js';
import type { EntityView } from '../../../lib/serving/serving-config.js';

const views: EntityView[] = [
  { name: 'customer', joinKey: 'customer_id', features: ['income', 'age', 'segment', 'unused'] },
  { name: 'merchant', joinKey: 'merchant_id', features: ['risk'] },
];
const signature = {
  features: [
    { name: 'income', type: 'float' as const },
    { name: 'age', type: 'float' as const },
    { name: 'segment', type: 'string' as const },
    { name: 'risk', type: 'float' as const },
  ],
};
const reading = (view: string, entityId: string, status: OnlineFeatures['status'], values: OnlineFeatures['values'] = {}): OnlineFeatures => ({
  view,
  entityId,
  status,
  values,
  eventTime: null,
  materializedAt: null,
  stalenessSeconds: null,
  ttlSeconds: 3600,
});

describe('mergeEntityFeatures', () => {
  it('fills the signature features each view has, lets row values (null too) win, and drops the entity keys', () => {
    const readings = new Map([
      ['customer', new Map([[0, reading('customer', 'c1', 'present', { income: 50, age: 40, segment: 7, unused: 1 })]])],
      ['merchant', new Map([[0, reading('merchant', 'm9', 'present', { risk: true })]])],
    ]);
    const { rows, lookups } = mergeEntityFeatures([{ customer_id: 'c1', merchant_id: 'm9', age: null }], views, readings, signature, 'reject');
    expect(rows).toEqual([{ income: 50, segment: '7', risk: 1, age: null }]);
    expect(lookups).toEqual([[{ view: 'customer', entityId: 'c1', status: 'present' }, { view: 'merchant', entityId: 'm9', status: 'present' }]]);
  });

  it('rejects a missing or expired entity naming row, entity, view and features; features sent in the row are not needed', () => {
    const readings = new Map([['customer', new Map([[0, reading('customer', 'c2', 'expired')], [1, reading('customer', 'c3', 'missing')]])]]);
    expect(() => mergeEntityFeatures([{ customer_id: 'c2', age: 3 }, { customer_id: 'c3' }], views, readings, signature, 'reject')).toThrow(
      /row 0: entity customer_id="c2" has no value in feature view customer \(expired: older than the view's TTL of 3600 s\) for income, segment; row 1: entity customer_id="c3" .*\(missing: never materialized\) for income, age, segment/,
    );
    const everything = mergeEntityFeatures([{ customer_id: 'c2', income: 1, age: 2, segment: 'a' }], views, new Map([['customer', new Map([[0, reading('customer', 'c2', 'expired')]])]]), signature, 'reject');
    expect(everything.rows).toEqual([{ income: 1, age: 2, segment: 'a' }]);
  });

  it('imputes a missing entity: its features are null', () => {
    const readings = new Map([['customer', new Map([[0, reading('customer', 'c3', 'missing', { income: null, age: null, segment: null })]])]]);
    expect(mergeEntityFeatures([{ customer_id: 'c3', risk: 0.5 }], views, readings, signature, 'impute').rows).toEqual([{ income: null, age: null, segment: null, risk: 0.5 }]);
  });
});

describe('fillFromOnlineStore', () => {
  it('reads each view once with distinct ids, in request order, and accepts integer ids', async () => {
    const calls: Array<[string, readonly string[]]> = [];
    const store: Pick<OnlineStore, 'read'> = {
      async read(view, ids) {
        calls.push([view, ids]);
        return ids.map((id) => reading(view, id, 'present', { income: Number(id.slice(-1)), age: 1, segment: 'a', risk: 0.1 }));
      },
    };
    const { rows } = await fillFromOnlineStore(store, [{ customer_id: 'c1' }, { customer_id: 42 }, { customer_id: 'c1', income: 9 }, { income: 1, age: 1, segment: 'b', risk: 0 }], views, signature, 'reject');
    expect(calls).toEqual([['customer', ['c1', '42']]]);
    expect(rows.map((r) => r.income)).toEqual([1, 2, 9, 1]);
  });

  it('refuses an entity id that is neither a string nor an integer', async () => {
    const store: Pick<OnlineStore, 'read'> = { read: async () => [] };
    await expect(fillFromOnlineStore(store, [{ customer_id: 1.5 }], views, signature, 'reject')).rejects.toThrow(/row 0: customer_id names an entity of feature view customer/);
    for (const id of ['c\u0000', '\ud800c']) {
      await expect(fillFromOnlineStore(store, [{ customer_id: 'c1' }, { customer_id: id }], views, signature, 'reject')).rejects.toThrow(
        'row 1: customer_id names an entity of feature view customer and must be a string without U+0000 or unpaired UTF-16 surrogates.',
      );
    }
    expect(namesEntities([{ customer_id: null }], views)).toBe(false);
    expect(namesEntities([{ merchant_id: 'm' }], views)).toBe(true);
  });
});
