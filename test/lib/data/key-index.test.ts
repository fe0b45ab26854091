// Row and key fingerprints: distinct canonical values give distinct texts, and so distinct fingerprints.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fingerprint, keyText } from '../../../lib/data/key-index.js';

describe('keyText', () => {
  it('is JSON for finite values and names NaN and the infinities, which JSON writes as null', () => {
    expect(keyText([1, 'a,"b"', null, true, -0])).toBe(JSON.stringify([1, 'a,"b"', null, true, 0]));
    const texts = [[Number.NaN], [null], [Number.POSITIVE_INFINITY], [Number.NEGATIVE_INFINITY], ['NaN'], ['null']].map(keyText);
    expect(new Set(texts).size).toBe(texts.length);
    expect(keyText([Number.NaN, 'x', null])).toBe('NaN,"x",null');
  });
});

describe('fingerprint', () => {
  it('is the first 16 bytes of sha256, in hex', () => {
    expect(fingerprint('[1,"a"]')).toBe(createHash('sha256').update('[1,"a"]').digest().subarray(0, 16).toString('hex'));
    expect(fingerprint('[1,"a"]')).toHaveLength(32);
  });
});
