/**
 * One CAP 1.2 message as XML (xmlbuilder2 escapes the text; characters XML cannot carry are
 * replaced). Element order follows the OASIS schema: it is a sequence, so order matters.
 */
import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';
import { referencesText, type EpisodeMessage } from './episode.js';
import { CANCEL_GRADE, CATEGORY, activeGrade, derivedSeverity } from './grading.js';
import { capTime } from './time.js';
import type { CapAlertInput, CapSettings, CapText } from './types.js';
import { EVENT, description, headline, instruction, levelLabel } from './wording.js';

export const CAP_NS = 'urn:oasis:names:tc:emergency:cap:1.2';
export const CAP_CONTENT_TYPE = 'application/cap+xml';

/** Options every document of this folder is created with: text XML 1.0 cannot hold becomes U+FFFD. */
export const XML_DOC_OPTIONS = { version: '1.0', encoding: 'UTF-8', invalidCharReplacement: '\uFFFD' } as const;

const LANGUAGES = [
  ['vi', 'vi-VN'],
  ['en', 'en-US'],
] as const;

/** CAP areaDesc is shown in lists: Google Public Alerts wants it under 50 characters. */
export const AREA_DESC_MAX = 49;

const HOUR = 3_600_000;

function clip(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

/** "lat,lon radius" in WGS 84 degrees and km, without exponents. */
function circle(lat: number, lon: number, radiusKm: number): string {
  const num = (x: number, digits: number) => String(Number(x.toFixed(digits)));
  return `${num(lat, 6)},${num(lon, 6)} ${num(radiusKm, 3)}`;
}

function areaDesc(input: CapAlertInput): CapText {
  const a = input.area;
  if (a.communeName) return { vi: clip(a.communeName, AREA_DESC_MAX), en: clip(a.communeName, AREA_DESC_MAX) };
  if (a.communeCode) return { vi: `Xã/phường mã ${a.communeCode}`, en: `Commune ${a.communeCode}` };
  return { vi: clip(a.fallback, AREA_DESC_MAX), en: clip(a.fallback, AREA_DESC_MAX) };
}

function pair(parent: XMLBuilder, name: string, valueName: string, value: string): void {
  const p = parent.ele(name);
  p.ele('valueName').txt(valueName);
  p.ele('value').txt(value);
}

/** Appends the message's <alert> (in the CAP namespace) to `parent`: a document or a feed entry. */
export function appendCapAlert(parent: XMLBuilder, input: CapAlertInput, msg: EpisodeMessage, settings: CapSettings): void {
  const ended = msg.msgType === 'Cancel';
  const step = msg.step;
  const severity = step.severity ?? derivedSeverity(input.hazard, step.level);
  const grade = ended ? CANCEL_GRADE : activeGrade(input.hazard, severity, input.missed);
  const expires = step.ts + (ended ? settings.cancelExpiresHours : settings.expiresHours) * HOUR;
  const head = headline(input, step, ended);
  const text = description(input, step, ended, msg.peakLevel);
  const advice = instruction(input.hazard, severity, ended, input.missed);
  const area = areaDesc(input);

  const alert = parent.ele(CAP_NS, 'alert');
  alert.ele('identifier').txt(msg.identifier);
  alert.ele('sender').txt(settings.sender);
  alert.ele('sent').txt(msg.sent);
  alert.ele('status').txt(input.exercise ? 'Exercise' : settings.status);
  alert.ele('msgType').txt(msg.msgType);
  alert.ele('scope').txt('Public');
  if (input.exercise) alert.ele('note').txt('Diễn tập / Exercise');
  if (msg.references.length) alert.ele('references').txt(referencesText(settings, msg.references));

  for (const [lang, tag] of LANGUAGES) {
    const info = alert.ele('info');
    info.ele('language').txt(tag);
    info.ele('category').txt(CATEGORY[input.hazard]);
    info.ele('event').txt(EVENT[input.hazard][lang]);
    info.ele('responseType').txt(grade.responseType);
    info.ele('urgency').txt(grade.urgency);
    info.ele('severity').txt(grade.severity);
    info.ele('certainty').txt(grade.certainty);
    info.ele('onset').txt(capTime(msg.onset));
    info.ele('expires').txt(capTime(expires));
    info.ele('senderName').txt(settings.senderName[lang]);
    info.ele('headline').txt(head[lang]);
    info.ele('description').txt(text[lang]);
    info.ele('instruction').txt(advice[lang]);
    if (settings.webBase) info.ele('web').txt(`${settings.webBase}/alerts/${input.id}`);
    pair(info, 'parameter', 'alertId', String(input.id));
    pair(info, 'parameter', 'rule', input.rule);
    pair(info, 'parameter', 'level', String(step.level));
    if (step.level > 0) pair(info, 'parameter', 'levelName', levelLabel(input, step.level, step.ts)[lang]);
    pair(info, 'parameter', 'peakLevel', String(msg.peakLevel));
    if (step.value !== null) {
      pair(info, 'parameter', 'metric', input.measure.metric);
      pair(info, 'parameter', 'value', String(step.value));
      if (input.measure.unit) pair(info, 'parameter', 'unit', input.measure.unit);
    }
    if (step.candidateRiskLevel !== undefined && !ended) pair(info, 'parameter', 'candidateRiskLevel', String(step.candidateRiskLevel));
    const a = info.ele('area');
    a.ele('areaDesc').txt(area[lang]);
    if (input.area.lat !== undefined && input.area.lon !== undefined) a.ele('circle').txt(circle(input.area.lat, input.area.lon, settings.radiusKm));
    if (input.area.communeCode) pair(a, 'geocode', 'VN-commune', input.area.communeCode);
    if (input.area.provinceCode) pair(a, 'geocode', 'VN-province', input.area.provinceCode);
  }
}

/** One message as a standalone XML document. */
export function capAlertXml(input: CapAlertInput, msg: EpisodeMessage, settings: CapSettings): string {
  const doc = create(XML_DOC_OPTIONS);
  appendCapAlert(doc, input, msg, settings);
  return doc.end({ prettyPrint: true });
}
