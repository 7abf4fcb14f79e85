/**
 * Checks of CAP output for the tests: the OASIS CAP 1.2 schema (xmllint, Debian libxml2-utils,
 * against the copy in ./fixtures) and Google Public Alerts' publishing rules.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { create } from 'xmlbuilder2';
import { tempDir } from './helpers.js';

export const CAP_XSD = new URL('./fixtures/cap-v1.2.xsd', import.meta.url).pathname;

/** Why schema validation cannot run here, or null when it can. */
export function xmllintMissing(): string | null {
  const r = spawnSync('xmllint', ['--version'], { encoding: 'utf8' });
  return r.error ? 'xmllint not installed: apt-get install libxml2-utils' : null;
}

/**
 * Runs xmllint over the documents (one run for all); with `schema`, validates them against the
 * CAP 1.2 XSD, else checks only that they are well-formed.
 */
export function xmllint(docs: readonly string[], schema = true): { ok: boolean; output: string } {
  const { dir, cleanup } = tempDir('ioc-cap-');
  try {
    const files = docs.map((xml, i) => {
      const f = join(dir, `doc-${i + 1}.xml`);
      writeFileSync(f, xml);
      return f;
    });
    const r = spawnSync('xmllint', ['--noout', ...(schema ? ['--schema', CAP_XSD] : []), ...files], { encoding: 'utf8' });
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
  } finally {
    cleanup();
  }
}

type Node = Record<string, unknown>;
const list = (v: unknown): Node[] => (v === undefined ? [] : Array.isArray(v) ? (v as Node[]) : [v as Node]);
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Minimal DOM surface the walk below needs. */
interface DomNode {
  nodeType: number;
  localName?: string;
  textContent: string | null;
  childNodes: ArrayLike<DomNode>;
}

/** An element as an object: a leaf is its (unescaped) text, repeated children become arrays. */
function toObject(el: DomNode): unknown {
  const children = Array.from(el.childNodes).filter((c) => c.nodeType === 1);
  if (!children.length) return el.textContent ?? '';
  const out: Node = {};
  for (const c of children) {
    const k = c.localName!;
    const v = toObject(c);
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** The <alert> of a CAP document, as an object (repeated elements become arrays). */
export function parseCap(xml: string): Node {
  const root = create(xml).root().node as unknown as DomNode;
  assert.equal(root.localName, 'alert');
  return toObject(root) as Node;
}

/** The CAP <alert> elements carried inline by an Atom feed, each as a document of its own. */
export function capAlertsInFeed(feed: string): string[] {
  return [...feed.matchAll(/<alert xmlns="urn:oasis:names:tc:emergency:cap:1\.2">[\s\S]*?<\/alert>/g)].map((m) => `<?xml version="1.0" encoding="UTF-8"?>\n${m[0]}`);
}

const TZ_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$/;

/**
 * What Google Public Alerts would refuse or flag in a message: sent with a time zone, every info
 * with expires, description and an area whose areaDesc is under 50 characters, and references on
 * an Update or Cancel (naming this sender's earlier messages, sent no later than this one).
 */
export function googleProblems(xml: string): string[] {
  const a = parseCap(xml);
  const problems: string[] = [];
  const sent = text(a.sent) ?? '';
  if (!TZ_TIME.test(sent)) problems.push(`sent "${sent}" has no time zone or has fractions`);
  const msgType = text(a.msgType);
  if (msgType === 'Update' || msgType === 'Cancel') {
    const refs = (text(a.references) ?? '').split(' ').filter(Boolean);
    if (!refs.length) problems.push(`${msgType} without references`);
    for (const r of refs) {
      const [sender, id, at] = r.split(',');
      if (sender !== a.sender || !id || !at || !TZ_TIME.test(at)) problems.push(`bad reference "${r}"`);
      else if (Date.parse(at) > Date.parse(sent)) problems.push(`reference "${r}" is newer than the message`);
    }
  }
  const infos = list(a.info);
  if (!infos.length) problems.push('no info');
  for (const info of infos) {
    const lang = text(info.language) ?? '?';
    const expires = text(info.expires);
    if (!expires) problems.push(`info ${lang}: no expires`);
    else if (!TZ_TIME.test(expires)) problems.push(`info ${lang}: expires "${expires}" has no time zone`);
    else if (Date.parse(expires) <= Date.parse(sent)) problems.push(`info ${lang}: expires before sent`);
    if (!text(info.description)) problems.push(`info ${lang}: no description`);
    if (!text(info.headline)) problems.push(`info ${lang}: no headline`);
    const areas = list(info.area);
    if (!areas.length) problems.push(`info ${lang}: no area`);
    for (const area of areas) {
      const desc = text(area.areaDesc) ?? '';
      if (!desc) problems.push(`info ${lang}: area without areaDesc`);
      if ([...desc].length >= 50) problems.push(`info ${lang}: areaDesc "${desc}" is 50 characters or more`);
      if (!area.circle && !area.polygon && !area.geocode) problems.push(`info ${lang}: area "${desc}" has no circle, polygon or geocode`);
    }
  }
  return problems;
}

/** Every info of a message by language, e.g. infoOf(xml, 'vi-VN').headline. */
export function infoOf(xml: string, language: string): Record<string, unknown> {
  const info = list(parseCap(xml).info).find((i) => i.language === language);
  if (!info) throw new Error(`no info in ${language}`);
  return info;
}

/** CAP parameters of an info as a map. */
export function parametersOf(info: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(list(info.parameter).map((p) => [String(p.valueName), String(p.value)]));
}
