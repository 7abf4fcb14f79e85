/** Channel types by name: a new channel is its own file here and one line in this list. */
import type { NotifierType } from '../types.js';
import { emailChannel } from './email.js';
import { mqttChannel } from './mqtt.js';
import { webhookChannel } from './webhook.js';

export const CHANNEL_TYPES: readonly NotifierType<any>[] = [
  webhookChannel,
  emailChannel,
  mqttChannel,
];
