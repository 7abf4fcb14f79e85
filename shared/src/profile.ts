/**
 * Device profile: one YAML per device model (firmware-configs/profiles/*.yaml). It names where each
 * metric lives on the device and how to turn the raw value into a canonical reading.
 */
import { Type, type Static } from '@sinclair/typebox';
import { METRIC_NAME_PATTERN } from './ids.js';
import { compile } from './validate.js';

export type ModbusDataType = 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'bool' | 'bit';

/**
 * Byte order of a value as it sits in the registers, A = most significant byte.
 * ABCD big-endian (Modbus default), CDAB word-swapped, BADC byte-swapped, DCBA little-endian.
 * For 16-bit types only the byte swap matters (AB vs BA).
 */
export const ByteOrder = Type.Union([Type.Literal('ABCD'), Type.Literal('CDAB'), Type.Literal('BADC'), Type.Literal('DCBA')]);
export type ByteOrder = Static<typeof ByteOrder>;

export const RegisterArea = Type.Union([
  Type.Literal('holding'),
  Type.Literal('input'),
  Type.Literal('coil'),
  Type.Literal('discrete'),
]);
export type RegisterArea = Static<typeof RegisterArea>;

export const ModbusPoint = Type.Object(
  {
    metric: Type.String({ pattern: METRIC_NAME_PATTERN }),
    area: RegisterArea,
    address: Type.Integer({ minimum: 0, maximum: 65535 }),
    type: Type.Union([
      Type.Literal('int16'), Type.Literal('uint16'), Type.Literal('int32'), Type.Literal('uint32'),
      Type.Literal('float32'), Type.Literal('bool'), Type.Literal('bit'),
    ]),
    /** Bit index (0 = least significant) for type "bit" inside a 16-bit register. */
    bit: Type.Optional(Type.Integer({ minimum: 0, maximum: 15 })),
    byteOrder: Type.Optional(ByteOrder),
    scale: Type.Optional(Type.Number()),
    offset: Type.Optional(Type.Number()),
    /** Unit of the scaled value as the device reports it; converted to the catalog unit. */
    unit: Type.Optional(Type.String({ maxLength: 16 })),
    /** Overrides the catalog's plausible range for this model. */
    range: Type.Optional(Type.Tuple([Type.Number(), Type.Number()])),
    /** The raw value that means "sensor fault / no reading" (e.g. 0x7FFF); stored with q bad. */
    invalidRaw: Type.Optional(Type.Number()),
  },
  { additionalProperties: false },
);
export type ModbusPoint = Static<typeof ModbusPoint>;

export const DeviceProfile = Type.Object(
  {
    model: Type.String({ minLength: 1, maxLength: 64 }),
    vendor: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    protocol: Type.Literal('modbus'),
    pollIntervalMs: Type.Integer({ minimum: 100, maximum: 86_400_000 }),
    /** Default byte order for multi-register values of this model. */
    byteOrder: Type.Optional(ByteOrder),
    points: Type.Array(ModbusPoint, { minItems: 1 }),
  },
  { additionalProperties: false },
);
export type DeviceProfile = Static<typeof DeviceProfile>;

export const validateDeviceProfile = compile(DeviceProfile);

/** Registers a data type occupies. */
export function registerCount(type: ModbusDataType): number {
  return type === 'int32' || type === 'uint32' || type === 'float32' ? 2 : 1;
}
