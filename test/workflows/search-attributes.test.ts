// Search attribute registration is idempotent and safe to race (runs are found by them in the lifecycle test).
import { Connection } from '@temporalio/client';
import { describe, expect, inject, it } from 'vitest';
import { ensureSearchAttributes } from '../../workers/search-attributes.js';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes.js';

describe('search attributes', () => {
  it('registers once and then has nothing to add, even when raced', async () => {
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    try {
      const raced = await Promise.all([ensureSearchAttributes(connection, 'default'), ensureSearchAttributes(connection, 'default')]);
      expect(raced).toEqual([[], []]);
      const listed = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      for (const key of SEARCH_ATTRIBUTES) expect(Object.keys(listed.customAttributes ?? {})).toContain(key.name);
    } finally {
      await connection.close();
    }
  });
});
