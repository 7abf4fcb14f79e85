/** Which readings the hub stores; the others are quarantined (accounted, kept, counted). */
import { metricDef, type Reading } from '@ioc/shared';
import type { Registry } from '../config/registry.js';
import type { Admit, QuarantineCause } from '../store/types.js';

export function createAdmission(registry: Registry): Admit {
  return (gw: string, r: Reading): QuarantineCause | null => {
    const device = registry.devices.get(r.dev);
    if (!device) return 'unknown_device';
    if (device.gateway !== gw) return 'device_not_on_gateway';
    const def = metricDef(r.metric);
    if (!def) return 'unknown_metric';
    // Units are converted at the edge: the hub keeps one unit per metric, the catalog's.
    if (r.unit !== def.unit) return 'unit_mismatch';
    if (r.value !== null) {
      if (def.kind === 'number' && typeof r.value !== 'number') return 'value_kind_mismatch';
      if (def.kind === 'boolean' && typeof r.value !== 'boolean') return 'value_kind_mismatch';
    }
    return null;
  };
}
