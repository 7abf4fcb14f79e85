/**
 * How the hub talks to the MQTT broker. Today the broker is aedes inside the hub
 * (./in-process-bus.ts); an external broker cluster would be one more file here: an mqtt.js client
 * subscribing with `$share/{group}/ioc/v1/+/telemetry` so hub replicas split the load.
 */
export type BusHandler = (topic: string, payload: Buffer) => void | Promise<void>;

export interface PublishOptions {
  qos: 0 | 1;
  retain: boolean;
}

export interface Bus {
  /**
   * Delivers every message matching `filter` to `handler`, one at a time per delivery slot: the
   * next delivery of this subscription waits for the handler (and its promise) to finish.
   */
  subscribe(filter: string, handler: BusHandler): Promise<void>;
  /** Resolves once the broker took the message (at once, without publishing, when the broker is shutting down). */
  publish(topic: string, payload: Buffer | string, opts: PublishOptions): Promise<void>;
  /** Removes this bus's subscriptions (the broker itself is closed by its owner). */
  close(): Promise<void>;
}
