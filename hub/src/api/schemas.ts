/**
 * Response schemas shared by several routes (TypeBox). Fastify serializes answers with them, which
 * drops properties a schema does not name: shapes that are still growing (device and gateway
 * status; alerts, ./alerts.ts) are permissive objects, so new fields pass through until they are
 * named here.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { Quality, Reading, Status } from '@ioc/shared';
import { DeviceEntry } from '../config/schema.js';
import { AlertSchema as AlertViewSchema } from './alerts.js';

/** The alert schema of ./alerts.ts (another TypeBox build: the same JSON Schema, typed loosely here). */
const AlertSchema = AlertViewSchema as unknown as TSchema;

export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const open = { additionalProperties: true } as const;

export const LatestValueSchema = Type.Object({
  value: Type.Union([Type.Number(), Type.Boolean(), Type.Null()]),
  unit: Nullable(Type.String()),
  ts: Type.Integer(),
  q: Quality,
  reason: Type.Optional(Type.String()),
  gw: Type.String(),
  seq: Type.Integer(),
});

/** A registry device with its last value per metric and its newest unresolved alert. */
export const DeviceSchema = Type.Object(
  {
    ...DeviceEntry.properties,
    latest: Type.Record(Type.String(), LatestValueSchema, { description: 'By metric' }),
    openAlert: Nullable(AlertSchema),
  },
  open,
);

const GatewayProblemSchema = Type.Object(
  {
    problem: Type.String(),
    message: Type.String(),
    lastAt: Nullable(Type.Integer()),
    detail: Type.Record(Type.String(), Type.Union([Type.Number(), Type.String(), Type.Null()])),
  },
  open,
);

export const GatewaySchema = Type.Object(
  {
    id: Type.String(),
    name: Nullable(Type.String()),
    communeCode: Nullable(Type.String()),
    devices: Type.Integer({ description: 'Devices of this gateway in the caller\'s scope' }),
    online: Type.Boolean(),
    lastSeen: Nullable(Type.Integer()),
    upTo: Type.Integer(),
    stored: Type.Integer(),
    duplicates: Type.Integer(),
    dropped: Type.Integer(),
    quarantined: Type.Integer(),
    accountedRanges: Type.Array(Type.Tuple([Type.Integer(), Type.Integer()]), { description: 'Accounted seq ranges (the first 50)' }),
    outbox: Nullable(Type.Unknown()),
    gatewayProblems: Type.Array(GatewayProblemSchema),
    link: Nullable(Type.String()),
    status: Nullable(Type.Object(Status.properties, open)),
    statusAt: Nullable(Type.Integer()),
  },
  open,
);

export const ReadingRowSchema = Type.Object({
  gw: Type.String(),
  seq: Type.Integer(),
  dev: Type.String(),
  metric: Type.String(),
  ts: Type.Integer(),
  value: Type.Union([Type.Number(), Type.Boolean(), Type.Null()]),
  q: Quality,
  reason: Type.Optional(Type.String()),
});

export const BucketSchema = Type.Object({
  t: Type.Integer({ description: 'Bucket start, epoch ms' }),
  avg: Type.Number(),
  min: Type.Number(),
  max: Type.Number(),
  count: Type.Integer(),
});

export const QuarantineRowSchema = Type.Object({
  gw: Type.String(),
  seq: Type.Integer(),
  cause: Type.String(),
  reading: Type.Object(Reading.properties, open),
  receivedAt: Type.Integer(),
});
