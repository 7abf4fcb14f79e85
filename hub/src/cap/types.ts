/**
 * What a CAP 1.2 message is built from. The hub's alert model is mapped to these types in ONE
 * place (./from-alert.ts); everything else in this folder knows only these.
 */

export interface CapText {
  vi: string;
  en: string;
}

/** Which hazard an alert is about: chooses the CAP category, the wording and the instructions. */
export type CapHazard = 'flood' | 'rain' | 'fire' | 'technical';

/** The hub's own severity scale (the lead's alert model carries it; else derived from the level). */
export type CapSeverityLevel = 'minor' | 'moderate' | 'severe' | 'extreme';

/**
 * One event of the episode that gives a CAP message: the raise, each level change, and its end
 * (condition cleared or alert closed by a person). Acknowledgements and notes give none.
 */
export interface CapStep {
  /** Event time, epoch ms: the message's `sent`. */
  ts: number;
  kind: 'raised' | 'escalated' | 'deescalated' | 'cleared' | 'closed';
  /** Level after the event (0 once cleared). */
  level: number;
  /** The measured value that caused the event, in `CapAlertInput.measure.unit`. */
  value: number | null;
  /** The hub's severity of this level when the alert model says (else derived from hazard and level). */
  severity?: CapSeverityLevel;
  /** The level's name (e.g. "Báo động II") when the alert model says (else ./wording.ts names it). */
  levelLabel?: CapText;
  /** Candidate disaster-risk level (QĐ 18/2021) at this event, when the rule computes one. */
  candidateRiskLevel?: number;
}

export interface CapAlertInput {
  /** The hub's alert id: one episode. */
  id: number;
  hazard: CapHazard;
  /** Rule kind, e.g. "flood-levels" (a CAP parameter). */
  rule: string;
  /** A drill: every message gets status Exercise. */
  exercise: boolean;
  /** The episode began and ended while the gateway was cut off: a report of the past, not an alarm. */
  missed: boolean;
  /** What was measured: the metric, its names and unit. */
  measure: { metric: string; name: CapText; unit: string };
  /** Where: the station or device, for the texts. */
  place: { deviceName: string; station?: string; river?: string };
  /** The area the messages cover. */
  area: {
    communeCode?: string;
    provinceCode?: string;
    communeName?: string;
    /** Used for areaDesc when neither a commune name nor code is known (e.g. the device id). */
    fallback: string;
    /** The station's position, the centre of the message's circle. */
    lat?: number;
    lon?: number;
  };
  /** The message-giving events, oldest first (./from-alert.ts picks them from the history). */
  steps: CapStep[];
}

/** Settings of the CAP output (hub.yaml `cap`, defaults filled by ./settings.ts). */
export interface CapSettings {
  /** CAP `sender`: no spaces, commas, "<" or "&". */
  sender: string;
  senderName: CapText;
  /** Actual, or Test for a hub whose messages nobody should act on. Drills give Exercise per alert. */
  status: 'Actual' | 'Test';
  /** An active message expires this long after it was sent. */
  expiresHours: number;
  /** A Cancel expires this long after it was sent. */
  cancelExpiresHours: number;
  /** Radius of the circle around the station. */
  radiusKm: number;
  /** The console's base URL: each message links to `{webBase}/alerts/{id}`. */
  webBase?: string;
  /** The feed keeps an ended alert's Cancel this long after it was sent. */
  keepEndedHours: number;
}
