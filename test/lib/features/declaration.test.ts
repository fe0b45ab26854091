// Feature view declarations: the typed constructors accept a good view and refuse bad ones naming where.
import { describe, expect, it } from 'vitest';
import { datasetSource, entity, featureView, parseFeatureView, sourceColumns, type FeatureView } from '../../../lib/features/declaration.js';

const good: FeatureView = {
  name: 'user_spend',
  description: 'Spending per user',
  owner: 'risk',
  tags: { team: 'risk' },
  entity: entity({ name: 'user', joinKey: 'user_id' }),
  source: datasetSource({ dataset: 'txns', eventTime: 'at' }),
  features: [
    { kind: 'value', name: 'amount', column: 'amount' },
    { kind: 'bucket', name: 'amount_bucket', column: 'amount', boundaries: [0, 10, 100] },
    { kind: 'aggregate', name: 'n_24h', fn: 'count', windowSeconds: 86_400 },
    { kind: 'aggregate', name: 'spend_7d', fn: 'sum', column: 'spend', windowSeconds: 7 * 86_400 },
  ],
  ttlSeconds: 86_400,
};

describe('featureView', () => {
  it('accepts a valid declaration and lists the source columns it reads', () => {
    expect(featureView(good)).toEqual(good);
    expect(sourceColumns(good)).toEqual(['amount', 'spend']);
  });

  it('refuses schema errors with the JSON path', () => {
    expect(() => parseFeatureView({ ...good, ttlSeconds: 0 })).toThrow(/invalid at \/ttlSeconds/);
    expect(() => parseFeatureView({ ...good, name: '1bad' })).toThrow(/invalid at \/name/);
    expect(() => parseFeatureView({ ...good, extra: true })).toThrow(/invalid/);
  });

  it('refuses repeated names, aggregates without a column, and unordered bucket boundaries', () => {
    expect(() => parseFeatureView({ ...good, features: [good.features[0], good.features[0]] })).toThrow(/repeats the feature name "amount"/);
    expect(() => parseFeatureView({ ...good, features: [{ kind: 'aggregate', name: 'm', fn: 'max', windowSeconds: 60 }] })).toThrow(/features\/0 \(max\) needs a column/);
    expect(() => parseFeatureView({ ...good, features: [{ kind: 'bucket', name: 'b', column: 'x', boundaries: [5, 5] }] })).toThrow(/strictly increasing/);
  });
});
