/**
 * Raw Modbus registers → number or boolean, per the point's data type and byte order.
 * Runs once per point per poll, so it allocates nothing: 32-bit values are assembled in one
 * shared scratch buffer (JavaScript is single-threaded, so sharing it is safe).
 */
import type { ByteOrder, ModbusDataType } from '@ioc/shared';

const scratch = new DataView(new ArrayBuffer(4));

function swapBytes(word: number): number {
  return ((word & 0xff) << 8) | ((word >>> 8) & 0xff);
}

/**
 * float32 has about 7 significant decimal digits; a device that sends 12.3 really sends
 * 12.300000190734863. Return the shortest decimal that is the same float32, so 12.3 stays 12.3
 * and no information is lost (every float32 round-trips with at most 9 significant digits).
 */
function shortestFloat32(f: number): number {
  if (f === 0 || !Number.isFinite(f) || Number.isInteger(f)) return f;
  const exp = Math.floor(Math.log10(Math.abs(f)));
  for (let digits = 6; digits <= 9; digits++) {
    const shift = digits - 1 - exp;
    // Multiplying or dividing by an exact power of ten keeps the rounding honest for both signs.
    const r = shift >= 0 ? Math.round(f * 10 ** shift) / 10 ** shift : Math.round(f / 10 ** -shift) * 10 ** -shift;
    if (Math.fround(r) === f) return r;
  }
  return f;
}

/**
 * Decodes one value starting at regs[0].
 * - int16/uint16: one register; BADC and DCBA swap its two bytes, ABCD and CDAB leave it.
 * - int32/uint32/float32: two registers, regs[0] first on the wire. A is the most significant byte:
 *   ABCD = [AB, CD] (Modbus default), CDAB = [CD, AB] (word swap), BADC = [BA, DC], DCBA = [DC, BA].
 * - bool: register (or coil/discrete 0/1) != 0.
 * - bit: bit `bit` (0 = least significant) of a 16-bit register, as the device sends it.
 */
export function decodeRegisters(
  regs: ArrayLike<number>,
  type: ModbusDataType,
  byteOrder: ByteOrder = 'ABCD',
  bit?: number,
): number | boolean {
  const w0 = regs[0];
  if (w0 === undefined) throw new RangeError(`decode ${type}: no register to decode`);
  switch (type) {
    case 'bool':
      return w0 !== 0;
    case 'bit':
      if (bit === undefined || bit < 0 || bit > 15) throw new RangeError(`decode bit: bit index ${String(bit)} is not 0..15`);
      return ((w0 >>> bit) & 1) === 1;
    case 'uint16':
    case 'int16': {
      let w = w0 & 0xffff;
      if (byteOrder === 'BADC' || byteOrder === 'DCBA') w = swapBytes(w);
      return type === 'int16' ? (w << 16) >> 16 : w;
    }
    case 'int32':
    case 'uint32':
    case 'float32': {
      const w1 = regs[1];
      if (w1 === undefined) throw new RangeError(`decode ${type}: needs 2 registers, got ${regs.length}`);
      let hi: number;
      let lo: number;
      switch (byteOrder) {
        case 'ABCD': hi = w0; lo = w1; break;
        case 'CDAB': hi = w1; lo = w0; break;
        case 'BADC': hi = swapBytes(w0); lo = swapBytes(w1); break;
        case 'DCBA': hi = swapBytes(w1); lo = swapBytes(w0); break;
      }
      scratch.setUint16(0, hi & 0xffff);
      scratch.setUint16(2, lo & 0xffff);
      if (type === 'int32') return scratch.getInt32(0);
      if (type === 'uint32') return scratch.getUint32(0);
      return shortestFloat32(scratch.getFloat32(0));
    }
  }
}

