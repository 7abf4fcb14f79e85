import './commune.css';
import type { ConsoleDef } from '../types.js';
import { DevicePage } from './device.js';
import { DevicesPage } from './devices.js';

export const communeConsole: ConsoleDef = {
  id: 'commune',
  path: '/commune',
  nav: 'nav.commune',
  roles: ['commune', 'admin'],
  routes: [
    { pattern: '/commune', component: DevicesPage },
    { pattern: '/commune/devices/:id', component: DevicePage },
  ],
};
