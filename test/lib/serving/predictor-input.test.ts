import { describe, expect, it } from 'vitest';
import { rowsToColumns, rowsToMatrix } from '../../../lib/serving/predictor.js';
import type { ModelSignature } from '../../../lib/training/types.js';

const version = { signature: { features: [{ name: 'a', type: 'float' }, { name: 'b', type: 'float' }] } as unknown as ModelSignature };

describe('rowsToMatrix', () => {
  it('packs rows row-major, null as NaN', () => {
    const X = rowsToMatrix([{ a: 1, b: null }, { b: 2.5, a: -3 }], version);
    expect(Array.from(X)).toEqual([1, Number.NaN, -3, 2.5]);
  });

  it('reads features whose names need quoting', () => {
    const odd = { signature: { features: [{ name: 'x"\\ y', type: 'float' }, { name: '0', type: 'float' }] } as unknown as ModelSignature };
    expect(Array.from(rowsToMatrix([{ '0': 2, 'x"\\ y': 1 }], odd))).toEqual([1, 2]);
  });

  it('names every problem with its row, as the column path does', () => {
    const rows = [{ a: 1, b: 2 }, { a: 1, b: 2, c: 3 }, { a: 'x', b: Infinity }, { b: 1 }] as never[];
    const error = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return (err as Error).message;
      }
      return 'no error';
    };
    const message = error(() => rowsToMatrix(rows, version));
    expect(message).toBe(
      "Invalid input for the model's signature (a, b): row 1: unknown feature \"c\"; row 2: feature \"a\" must be a finite number or null; " +
        'row 2: feature "b" must be a finite number or null; row 3: missing feature "a" (send null for a missing value).',
    );
    expect(error(() => rowsToColumns(rows, version))).toBe(message);
  });
});

describe('rowsToColumns', () => {
  const mixed = { signature: { features: [{ name: 'a', type: 'float' }, { name: 'city', type: 'string' }] } as unknown as ModelSignature };

  it('takes any well-formed string for a categorical feature, unknown categories and astral characters included', () => {
    expect(rowsToColumns([{ a: 1, city: 'Zürich 𝔘 ☃' }, { a: null, city: null }, { a: 2, city: '' }], mixed).city).toEqual(['Zürich 𝔘 ☃', null, '']);
  });

  it('refuses a string Postgres could not store in the prediction log (U+0000, an unpaired surrogate), naming row and feature', () => {
    const bad = ['a\u0000b', '\ud800', 'x\udc00', '\udc00\ud800', 'ok 𝔘 \ud835'];
    let message = '';
    try {
      rowsToColumns(bad.map((city) => ({ a: 1, city })), mixed);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe(
      "Invalid input for the model's signature (a, city): " + bad.map((_, i) => `row ${i}: feature "city" must be a string without U+0000 or unpaired UTF-16 surrogates`).join('; ') + '.',
    );
  });
});

