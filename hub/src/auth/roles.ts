/**
 * Roles and what each may do. A route declares the permission it needs (route config `access`);
 * the auth hook (../api/auth-hook.ts) checks it, and the caller's scope narrows what it sees.
 */
export const ROLES = ['admin', 'operator', 'commune', 'technician', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export type Permission =
  | 'read' // devices, readings, alerts, gateways — within scope
  | 'alerts.act' // acknowledge, assign, close, confirm a risk level
  | 'alerts.shelve' // shelve a target for maintenance
  | 'rules.manage'
  | 'gateways.enrol' // enrolment tokens
  | 'gateways.revoke'
  | 'gateways.seqs' // accounting detail, quarantine
  | 'users.manage'
  | 'apikeys.manage'
  | 'audit.read'
  | 'metrics.read'
  | 'notify.manage' // notification queue, dead letters and their replay
  | 'backups.manage'; // list the hub's backups, make one now

const ALL: readonly Permission[] = ['read', 'alerts.act', 'alerts.shelve', 'rules.manage', 'gateways.enrol', 'gateways.revoke', 'gateways.seqs', 'users.manage', 'apikeys.manage', 'audit.read', 'metrics.read', 'notify.manage', 'backups.manage'];

export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  admin: new Set(ALL),
  operator: new Set<Permission>(['read', 'alerts.act', 'alerts.shelve', 'gateways.seqs', 'metrics.read']),
  technician: new Set<Permission>(['read', 'alerts.shelve', 'gateways.enrol', 'gateways.revoke', 'gateways.seqs']),
  commune: new Set<Permission>(['read']),
  viewer: new Set<Permission>(['read']),
};

/** Roles whose accounts must use TOTP as a second factor. */
export const MFA_REQUIRED: ReadonlySet<Role> = new Set<Role>(['admin']);

export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}

export function can(role: Role, p: Permission): boolean {
  return ROLE_PERMISSIONS[role].has(p);
}
