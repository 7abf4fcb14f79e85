/**
 * The messages of the WebSocket stream (/api/v1/stream), as TypeBox schemas: published in the
 * OpenAPI document's components (a console can generate its types) and checked in tests.
 *
 * Every message has an `id` and a `type`. Data messages carry the id the live feed gave the
 * publication (one increasing sequence for all types; a client sees gaps where the publication was
 * not for it). The first message of a connection is `hello` or `reset`, whose id is the point the
 * stream goes on from: resume after a reconnect with `?since=` the highest id received.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { DeviceEvent, Reading, Status } from '@ioc/shared';

const Id = Type.Integer({ minimum: 0, description: 'Position in the live feed (one sequence for every type)' });
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const StreamHello = Type.Object(
  {
    id: Id,
    type: Type.Literal('hello'),
    /** True when the messages missed since `since` were sent before this one. */
    resumed: Type.Boolean(),
  },
  { description: 'First message of a connection: live from here (after the missed messages when resuming)' },
);

export const StreamReset = Type.Object(
  {
    id: Id,
    type: Type.Literal('reset'),
    reason: Type.String(),
  },
  { description: 'First message when `since` is older than what the hub keeps: reload state through the REST API, then go on from this id' },
);

export const StreamReadings = Type.Object({
  id: Id,
  type: Type.Literal('readings'),
  gw: Type.String(),
  /** Readings of one batch newly stored, of devices the client may see, in seq order. */
  readings: Type.Array(Type.Composite([Reading, Type.Object({ gw: Type.String(), seq: Type.Integer() })])),
});

export const StreamAlert = Type.Object({
  id: Id,
  type: Type.Literal('alert'),
  /** The alert as GET /api/v1/alerts/{id} shows it (fields may be added). */
  alert: Type.Object({ id: Type.Integer(), state: Type.String() }, { additionalProperties: true }),
  /** The change: raised, escalated, acknowledged, … */
  event: Type.Object({ ts: Type.Integer(), kind: Type.String() }, { additionalProperties: true }),
  message: Type.Object({ vi: Type.String(), en: Type.String() }),
});

export const StreamStatus = Type.Object({
  id: Id,
  type: Type.Literal('status'),
  gw: Type.String(),
  online: Type.Boolean(),
  lastSeen: Nullable(Type.Integer()),
  status: Nullable(Status),
  statusAt: Nullable(Type.Integer()),
});

export const StreamEvent = Type.Object({
  id: Id,
  type: Type.Literal('event'),
  gw: Type.String(),
  event: DeviceEvent,
});

export const StreamMessage = Type.Union([StreamHello, StreamReset, StreamReadings, StreamAlert, StreamStatus, StreamEvent]);

/** Close codes the hub uses (4000–4999 are the application's). */
export const CLOSE = {
  /** The client fell behind the live feed (its socket did not drain): reconnect with since=. */
  slow: 4008,
  /** The credentials it connected with are no longer valid, or its areas changed. */
  credentials: 4401,
  /** The hub is shutting down (1001 going away). */
  shutdown: 1001,
} as const;
