import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../../lib/util/uuid7.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const millisOf = (id: string): number => parseInt(id.slice(0, 8) + id.slice(9, 13), 16);

describe('uuidv7', () => {
  it('is a version 7, RFC variant UUID carrying the time in its first 48 bits', () => {
    const before = Date.now();
    const id = uuidv7();
    expect(id).toMatch(V7);
    expect(millisOf(id)).toBeGreaterThanOrEqual(before);
    expect(millisOf(id)).toBeLessThanOrEqual(Date.now());
    expect(millisOf(uuidv7(0))).toBe(0);
    expect(millisOf(uuidv7(2 ** 48 - 1))).toBe(2 ** 48 - 1);
  });

  it('sorts by time across milliseconds, and never repeats', () => {
    const ids = [1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_255, 1_700_000_004_096].map((ms) => uuidv7(ms));
    expect([...ids].sort()).toEqual(ids);
    const many = Array.from({ length: 100_000 }, () => uuidv7());
    expect(new Set(many).size).toBe(many.length);
    expect(many.every((id) => V7.test(id))).toBe(true);
  });
});
