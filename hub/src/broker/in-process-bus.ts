/** Bus over the embedded aedes broker: aedes.subscribe / aedes.publish, no network hop. */
import type { Aedes, AedesPublishPacket } from 'aedes';
import type { Logger } from '@ioc/shared';
import type { Bus, BusHandler, PublishOptions } from './bus.js';

type Deliver = (packet: AedesPublishPacket, cb: () => void) => void;

export class InProcessBus implements Bus {
  private readonly subs: Array<{ filter: string; deliver: Deliver }> = [];
  private closed = false;

  constructor(
    private readonly broker: Aedes,
    private readonly logger: Logger,
  ) {}

  subscribe(filter: string, handler: BusHandler): Promise<void> {
    const deliver: Deliver = (packet, cb) => {
      if (this.closed) return cb();
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      let result: void | Promise<void>;
      try {
        result = handler(packet.topic, payload);
      } catch (err) {
        this.logger.error({ err, topic: packet.topic }, 'bus handler failed');
        return cb();
      }
      if (result && typeof (result as Promise<void>).then === 'function') {
        (result as Promise<void>).then(cb, (err: unknown) => {
          this.logger.error({ err, topic: packet.topic }, 'bus handler failed');
          cb();
        });
      } else cb();
    };
    this.subs.push({ filter, deliver });
    return new Promise((resolve) => this.broker.subscribe(filter, deliver, resolve));
  }

  publish(topic: string, payload: Buffer | string, opts: PublishOptions): Promise<void> {
    // The broker is shutting down: its clients are disconnected, nobody is left to receive this
    // (an ack of a batch committed during shutdown; the gateway learns upTo when it reconnects).
    if (this.broker.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.broker.publish(
        {
          cmd: 'publish',
          topic,
          payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
          qos: opts.qos,
          retain: opts.retain,
          dup: false,
        },
        (err) => (err ? reject(err) : resolve()),
      );
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      this.subs.map(({ filter, deliver }) => new Promise<void>((resolve) => this.broker.unsubscribe(filter, deliver, resolve))),
    );
    this.subs.length = 0;
  }
}
