/** Reconnect delays: the project's one Backoff (exponential, full jitter) lives in @ioc/shared. */
export { Backoff } from '@ioc/shared';
