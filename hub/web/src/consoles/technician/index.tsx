/** The technician console: gateways and their health, enrolment tokens, revocation, live device values. */
import type { ConsoleDef } from '../types.js';
import { t, useLang } from '../../i18n/index.js';
import { DeviceLivePage, DevicePicker } from './device-live.js';
import { EnrolPanel } from './enrol.js';
import { GatewaysTable, useGateways } from './gateways.js';
import './technician.css';

function Home() {
  useLang();
  const gw = useGateways();
  return (
    <div class="tech-sections">
      <h1 class="tech-sr">{t('nav.technician')}</h1>
      <GatewaysTable gw={gw} />
      <div class="tech-sections two">
        <EnrolPanel onEnrolled={() => void gw.load()} />
        <DevicePicker />
      </div>
    </div>
  );
}

export const technicianConsole: ConsoleDef = {
  id: 'technician',
  path: '/technician',
  nav: 'nav.technician',
  roles: ['technician', 'admin'],
  routes: [
    { pattern: '/technician', component: Home },
    { pattern: '/technician/devices/:id', component: DeviceLivePage },
  ],
};
