// The binary COPY encoder, byte for byte against the format Postgres documents (COPY ... WITH (FORMAT binary)).
import { describe, expect, it } from 'vitest';
import { CopyBinaryWriter, splitCopyPayload } from '../../../lib/storage/binary-copy.js';

const HEADER = '5047434f50590aff0d0a00' + '00000000' + '00000000';

describe('CopyBinaryWriter', () => {
  it('writes the header, length-prefixed big-endian fields, -1 for null, and the trailer', () => {
    const w = new CopyBinaryWriter(8);
    w.row(5);
    w.int32(-2);
    w.null();
    w.text('é');
    w.bool(true);
    w.timestamp(Date.UTC(2000, 0, 1) + 1.5);
    const hex = w.finish().toString('hex');
    expect(hex).toBe(HEADER + '0005' + '00000004fffffffe' + 'ffffffff' + '00000002c3a9' + '0000000101' + '00000008' + (2000).toString(16).padStart(16, '0') + 'ffff');
  });

  it('writes jsonb with its version byte, uuids as 16 bytes, and refuses a malformed uuid', () => {
    const w = new CopyBinaryWriter();
    w.row(2);
    w.jsonb('{"a":1}');
    w.uuid('00112233-4455-6677-8899-aabbccddeeff');
    expect(w.finish().toString('hex')).toBe(HEADER + '0002' + '0000000801' + Buffer.from('{"a":1}').toString('hex') + '00000010' + '00112233445566778899aabbccddeeff' + 'ffff');
    expect(() => new CopyBinaryWriter().uuid('not-a-uuid')).toThrow(/Not a UUID/);
    expect(() => new CopyBinaryWriter().uuid('0011223344-55-6677-8899-aabbccddeeff')).toThrow(/Not a UUID/);
  });

  it('streams: take() hands over what was written and goes on empty; truncate drops a half-written row', () => {
    const w = new CopyBinaryWriter();
    w.row(1);
    w.int64(2n ** 40n);
    const first = w.take();
    expect(first.toString('hex')).toBe(HEADER + '0001' + '00000008' + (2 ** 40).toString(16).padStart(16, '0'));
    const mark = w.length;
    w.row(1);
    w.float64(1.5);
    w.truncate(mark);
    w.row(1);
    w.float32(0.5);
    expect(w.finish().toString('hex')).toBe('0001' + '000000043f000000' + 'ffff');
  });

  it('splits a finished payload after a given row into two finished payloads', () => {
    const w = new CopyBinaryWriter(8);
    const rows = ['0003' + '00000004' + '00000001' + 'ffffffff' + '00000002c3a9', '0001' + '0000000801' + Buffer.from('{"a":1}').toString('hex'), '0002' + 'ffffffff' + '00000000'];
    w.row(3);
    w.int32(1);
    w.null();
    w.text('é');
    w.row(1);
    w.jsonb('{"a":1}');
    w.row(2);
    w.null();
    w.text('');
    const payload = w.finish();
    expect(payload.toString('hex')).toBe(HEADER + rows.join('') + 'ffff');
    for (let at = 0; at <= 3; at++) {
      const [a, b] = splitCopyPayload(payload, at);
      expect([a.toString('hex'), b.toString('hex')]).toEqual([HEADER + rows.slice(0, at).join('') + 'ffff', HEADER + rows.slice(at).join('') + 'ffff']);
    }
  });
});
