import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ByteOrder } from '@ioc/shared';
import { decodeRegisters } from '../src/normalize/decode.js';

// Register words as they arrive on the wire for each byte order, written out by hand from the
// value's big-endian bytes A B C D (not produced by an encoder, so the decoder is checked against
// the definition, not against itself).
const cases: Array<{ type: 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32'; value: number; words: Record<ByteOrder, number[]> }> = [
  // -2 = 0xFFFE
  { type: 'int16', value: -2, words: { ABCD: [0xfffe], CDAB: [0xfffe], BADC: [0xfeff], DCBA: [0xfeff] } },
  // -32768 = 0x8000
  { type: 'int16', value: -32768, words: { ABCD: [0x8000], CDAB: [0x8000], BADC: [0x0080], DCBA: [0x0080] } },
  { type: 'int16', value: 315, words: { ABCD: [0x013b], CDAB: [0x013b], BADC: [0x3b01], DCBA: [0x3b01] } },
  // 4660 = 0x1234
  { type: 'uint16', value: 4660, words: { ABCD: [0x1234], CDAB: [0x1234], BADC: [0x3412], DCBA: [0x3412] } },
  { type: 'uint16', value: 65535, words: { ABCD: [0xffff], CDAB: [0xffff], BADC: [0xffff], DCBA: [0xffff] } },
  // -123456789 = 0xF8A432EB
  { type: 'int32', value: -123456789, words: { ABCD: [0xf8a4, 0x32eb], CDAB: [0x32eb, 0xf8a4], BADC: [0xa4f8, 0xeb32], DCBA: [0xeb32, 0xa4f8] } },
  // 305419896 = 0x12345678
  { type: 'int32', value: 305419896, words: { ABCD: [0x1234, 0x5678], CDAB: [0x5678, 0x1234], BADC: [0x3412, 0x7856], DCBA: [0x7856, 0x3412] } },
  // 3000000000 = 0xB2D05E00 (above int32: must not come out negative)
  { type: 'uint32', value: 3000000000, words: { ABCD: [0xb2d0, 0x5e00], CDAB: [0x5e00, 0xb2d0], BADC: [0xd0b2, 0x005e], DCBA: [0x005e, 0xd0b2] } },
  // 12.3f = 0x4144CCCD
  { type: 'float32', value: 12.3, words: { ABCD: [0x4144, 0xcccd], CDAB: [0xcccd, 0x4144], BADC: [0x4441, 0xcdcc], DCBA: [0xcdcc, 0x4441] } },
  // -1.5f = 0xBFC00000
  { type: 'float32', value: -1.5, words: { ABCD: [0xbfc0, 0x0000], CDAB: [0x0000, 0xbfc0], BADC: [0xc0bf, 0x0000], DCBA: [0x0000, 0xc0bf] } },
  // 3.15f = 0x4049999A (Kim Long's real 2020 peak)
  { type: 'float32', value: 3.15, words: { ABCD: [0x4049, 0x999a], CDAB: [0x999a, 0x4049], BADC: [0x4940, 0x9a99], DCBA: [0x9a99, 0x4940] } },
];

for (const c of cases) {
  for (const order of ['ABCD', 'CDAB', 'BADC', 'DCBA'] as const) {
    test(`${c.type} ${c.value} in ${order}`, () => {
      assert.equal(decodeRegisters(c.words[order], c.type, order), c.value);
    });
  }
}

test('ABCD is the default byte order', () => {
  assert.equal(decodeRegisters([0xfffe], 'int16'), -2);
  assert.equal(decodeRegisters([0x4144, 0xcccd], 'float32'), 12.3);
});

test('a 32-bit value in the wrong order decodes to something else (so the order matters)', () => {
  assert.notEqual(decodeRegisters([0xcccd, 0x4144], 'float32', 'ABCD'), 12.3);
  assert.notEqual(decodeRegisters([0x32eb, 0xf8a4], 'int32', 'ABCD'), -123456789);
});

test('float32 comes back as the shortest decimal of the same float, not 12.300000190734863', () => {
  assert.equal(decodeRegisters([0x3dcc, 0xcccd], 'float32'), 0.1);
  assert.equal(decodeRegisters([0x3eaa, 0xaaab], 'float32'), 0.33333334); // 0.3333333 is a different float
  assert.equal(decodeRegisters([0x4b80, 0x0000], 'float32'), 16777216);
  // 1.2345678f needs 8 digits to round-trip
  assert.equal(decodeRegisters([0x3f9e, 0x0651], 'float32'), 1.2345678);
  assert.equal(decodeRegisters([0x0000, 0x0000], 'float32'), 0);
});

test('float32 NaN and infinities pass through for the normalizer to flag', () => {
  assert.ok(Number.isNaN(decodeRegisters([0x7fc0, 0x0000], 'float32')));
  assert.equal(decodeRegisters([0x7f80, 0x0000], 'float32'), Infinity);
  assert.equal(decodeRegisters([0x0000, 0xff80], 'float32', 'CDAB'), -Infinity);
});

test('bool: a coil value or a register that is not zero', () => {
  assert.equal(decodeRegisters([0], 'bool'), false);
  assert.equal(decodeRegisters([1], 'bool'), true);
  assert.equal(decodeRegisters([0x8000], 'bool'), true);
});

test('bit n of a 16-bit register, 0 = least significant', () => {
  assert.equal(decodeRegisters([0x0005], 'bit', 'ABCD', 0), true);
  assert.equal(decodeRegisters([0x0005], 'bit', 'ABCD', 1), false);
  assert.equal(decodeRegisters([0x0005], 'bit', 'ABCD', 2), true);
  assert.equal(decodeRegisters([0x8000], 'bit', 'ABCD', 15), true);
  assert.equal(decodeRegisters([0x7fff], 'bit', 'ABCD', 15), false);
  // Bits are numbered in the register as the device sends it; byte order does not move them.
  assert.equal(decodeRegisters([0x0100], 'bit', 'BADC', 8), true);
});

test('missing registers and a bit point without an index are errors, not garbage', () => {
  assert.throws(() => decodeRegisters([0x4144], 'float32'), /needs 2 registers/);
  assert.throws(() => decodeRegisters([], 'int16'), /no register/);
  assert.throws(() => decodeRegisters([1], 'bit'), /bit index/);
});

test('only the low 16 bits of each register count', () => {
  assert.equal(decodeRegisters([0x1fffe], 'int16'), -2);
  assert.equal(decodeRegisters([0x10000 | 0x1234, 0x5678], 'uint32'), 0x12345678);
});
