export { Uplink, type UplinkOptions, type UplinkEvents, type UplinkCounters, type LinkState } from './uplink.js';
export { Lanes, type Batch, type ReadRun } from './lanes.js';
export { LinkEstimator, type AckSample, type EstimatorOptions, type LinkEstimate, type LinkPhase } from './estimator.js';
export { NetWatch, networkSignature } from './netwatch.js';
export { batchPrefix, telemetryPayload, droppedPayload, fitDropped, statusPayload, LWT_PAYLOAD, BATCH_ENVELOPE_BYTES, MIN_READING_BYTES } from './payload.js';
