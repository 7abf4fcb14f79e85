/**
 * An episode as a chain of CAP messages: the raise is an Alert, each level change an Update, the
 * end (cleared or closed) a Cancel; every Update and Cancel references all earlier messages of the
 * episode. Everything comes from the steps (event times), never from the clock, so a message
 * reads the same every time it is asked for.
 */
import { capTime } from './time.js';
import type { CapAlertInput, CapSettings, CapStep } from './types.js';

export type CapMsgType = 'Alert' | 'Update' | 'Cancel';

export interface CapMessageRef {
  identifier: string;
  /** CAP dateTime. */
  sent: string;
}

export interface EpisodeMessage {
  /** 1-based position in the episode. */
  n: number;
  identifier: string;
  sent: string;
  msgType: CapMsgType;
  step: CapStep;
  /** Earlier messages of the episode, oldest first (empty for the Alert). */
  references: CapMessageRef[];
  /** Highest level of the episode up to and including this message. */
  peakLevel: number;
  /** Episode start (the raise), epoch ms: CAP onset. */
  onset: number;
}

/** A message id unique for this sender: "{sender}.alert.{id}.{n}". */
export function capIdentifier(settings: CapSettings, alertId: number, n: number): string {
  return `${settings.sender}.alert.${alertId}.${n}`;
}

const ENDS = new Set<CapStep['kind']>(['cleared', 'closed']);

/**
 * The episode's messages, oldest first. Only the first end gives a Cancel (a clear followed by a
 * close is one end); a rise after it (an episode held open through flapping) continues the chain
 * with Updates that reference the Cancel too.
 */
export function episodeMessages(input: CapAlertInput, settings: CapSettings): EpisodeMessage[] {
  const out: EpisodeMessage[] = [];
  let ended = false;
  let peak = 0;
  const onset = input.steps[0]?.ts ?? 0;
  for (const step of input.steps) {
    const end = ENDS.has(step.kind);
    if (end && (ended || out.length === 0)) continue;
    if (!end) peak = Math.max(peak, step.level);
    const n = out.length + 1;
    const msgType: CapMsgType = end ? 'Cancel' : n === 1 ? 'Alert' : 'Update';
    ended = end;
    out.push({
      n,
      identifier: capIdentifier(settings, input.id, n),
      sent: capTime(step.ts),
      msgType,
      step,
      references: out.map((m) => ({ identifier: m.identifier, sent: m.sent })),
      peakLevel: peak,
      onset,
    });
  }
  return out;
}

/** CAP `references`: "sender,identifier,sent" triples separated by spaces. */
export function referencesText(settings: CapSettings, refs: readonly CapMessageRef[]): string {
  return refs.map((r) => `${settings.sender},${r.identifier},${r.sent}`).join(' ');
}
