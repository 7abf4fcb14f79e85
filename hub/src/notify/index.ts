/** The notifications of one hub: what hub.ts wires (see ./service.ts). */
import type { Registry } from 'prom-client';
import type { Logger } from '@ioc/shared';
import type { AlertView } from '../alerts/types.js';
import type { HubDatabase } from '../db/database.js';
import type { NotifyConfig } from './config.js';
import { alertHistorySource, alertStateOf } from './from-alert.js';
import { NotifyService } from './service.js';

export { NotifyService } from './service.js';
export type { Notification, Notifier, NotifierType, DeliveryOutcome } from './types.js';

export interface OpenNotificationsOptions {
  db: HubDatabase;
  config: NotifyConfig;
  logger: Logger;
  version: string;
  metricsRegistry: Registry;
  /** An alert as the API shows it (full scope), or undefined. */
  alertView(id: number): AlertView | undefined;
}

/** Queues from now on; delivers after start({ bus }). */
export function openNotifications(o: OpenNotificationsOptions): NotifyService {
  return new NotifyService({
    db: o.db,
    config: o.config,
    logger: o.logger,
    version: o.version,
    metricsRegistry: o.metricsRegistry,
    alertState: (id) => {
      const a = o.alertView(id);
      return a && alertStateOf(a);
    },
    history: alertHistorySource(o.db, o.alertView),
  });
}
