/**
 * How a level becomes CAP's urgency, severity, certainty, category and response: one table, the
 * same one the README shows ("CAP 1.2"). Readings are measurements, so certainty is Observed.
 */
import type { CapHazard, CapSeverityLevel } from './types.js';

export type CapCategory = 'Met' | 'Fire' | 'Infra';
export type CapUrgency = 'Immediate' | 'Expected' | 'Past';
export type CapSeverity = 'Extreme' | 'Severe' | 'Moderate' | 'Minor';
export type CapResponse = 'Evacuate' | 'Prepare' | 'Monitor' | 'Assess' | 'AllClear' | 'None';

export interface CapGrade {
  urgency: CapUrgency;
  severity: CapSeverity;
  certainty: 'Observed';
  responseType: CapResponse;
}

export const CATEGORY: Record<CapHazard, CapCategory> = { flood: 'Met', rain: 'Met', fire: 'Fire', technical: 'Infra' };

/**
 * The hub's severity for a level when the alert model does not say: flood alarm levels BĐ1, BĐ2,
 * BĐ3 and the tiers above it; rainfall bands 1–3; a fire is at least severe; a technical fault minor.
 */
export function derivedSeverity(hazard: CapHazard, level: number): CapSeverityLevel {
  switch (hazard) {
    case 'flood':
    case 'rain':
      return level >= 3 ? 'extreme' : level === 2 ? 'severe' : 'moderate';
    case 'fire':
      return level >= 2 ? 'extreme' : 'severe';
    case 'technical':
      return 'minor';
  }
}

const SEVERITY: Record<CapSeverityLevel, CapSeverity> = { extreme: 'Extreme', severe: 'Severe', moderate: 'Moderate', minor: 'Minor' };

/** Grade of an active message. `missed`: the episode is over already, a report (urgency Past). */
export function activeGrade(hazard: CapHazard, severity: CapSeverityLevel, missed: boolean): CapGrade {
  const urgency: CapUrgency = missed ? 'Past' : hazard === 'fire' || severity === 'extreme' ? 'Immediate' : 'Expected';
  return { urgency, severity: SEVERITY[severity], certainty: 'Observed', responseType: missed ? 'None' : response(hazard, severity) };
}

/** Grade of the Cancel that ends an episode. */
export const CANCEL_GRADE: CapGrade = { urgency: 'Past', severity: 'Minor', certainty: 'Observed', responseType: 'AllClear' };

function response(hazard: CapHazard, severity: CapSeverityLevel): CapResponse {
  if (hazard === 'technical') return 'Assess';
  if (hazard === 'fire') return 'Evacuate';
  return severity === 'extreme' ? 'Evacuate' : severity === 'severe' ? 'Prepare' : 'Monitor';
}
