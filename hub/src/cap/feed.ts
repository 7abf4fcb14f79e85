/**
 * The CAP feed: an Atom 1.0 feed with one entry per current message, the CAP <alert> inline in
 * the entry's content (type application/cap+xml) and linked, the way national CAP feeds and
 * Google Public Alerts' aggregator publish them.
 */
import { create } from 'xmlbuilder2';
import type { EpisodeMessage } from './episode.js';
import { CAP_CONTENT_TYPE, XML_DOC_OPTIONS, appendCapAlert } from './message.js';
import { capTime } from './time.js';
import type { CapAlertInput, CapSettings } from './types.js';
import { headline } from './wording.js';

export const ATOM_NS = 'http://www.w3.org/2005/Atom';
export const ATOM_CONTENT_TYPE = 'application/atom+xml';

const HOUR = 3_600_000;

export interface FeedItem {
  input: CapAlertInput;
  /** The alert's current (latest) message. */
  msg: EpisodeMessage;
}

/**
 * Whether an alert's latest message belongs in the feed at `now`: every message of an episode
 * that goes on, and a Cancel for `keepEndedHours` after it was sent (so that readers learn of the
 * end). Missed episodes are reports of the past: not in the feed.
 */
export function inFeed(item: FeedItem, settings: CapSettings, now: number): boolean {
  if (item.input.missed) return false;
  return item.msg.msgType !== 'Cancel' || now - item.msg.step.ts <= settings.keepEndedHours * HOUR;
}

export interface FeedOptions {
  items: readonly FeedItem[];
  settings: CapSettings;
  /** Absolute URL of the feed itself (its id and self link). */
  feedUrl: string;
  /** Absolute URL of message n of an alert. */
  messageUrl(alertId: number, n: number): string;
  /** The feed's `updated` when it has no entries (the newest entry's time otherwise). */
  now: number;
}

export function capFeedXml(o: FeedOptions): string {
  const items = [...o.items].sort((a, b) => b.msg.step.ts - a.msg.step.ts || b.input.id - a.input.id);
  const doc = create(XML_DOC_OPTIONS);
  const feed = doc.ele(ATOM_NS, 'feed');
  feed.ele('id').txt(o.feedUrl);
  feed.ele('title').txt(`${o.settings.senderName.vi} — cảnh báo CAP / CAP alerts`);
  feed.ele('updated').txt(capTime(items[0]?.msg.step.ts ?? o.now));
  feed.ele('author').ele('name').txt(o.settings.senderName.vi);
  feed.ele('link', { rel: 'self', type: ATOM_CONTENT_TYPE, href: o.feedUrl });
  for (const { input, msg } of items) {
    const url = o.messageUrl(input.id, msg.n);
    const entry = feed.ele('entry');
    entry.ele('id').txt(url);
    entry.ele('title').txt(headline(input, msg.step, msg.msgType === 'Cancel').vi);
    entry.ele('updated').txt(msg.sent);
    entry.ele('link', { rel: 'alternate', type: CAP_CONTENT_TYPE, href: url });
    appendCapAlert(entry.ele('content', { type: CAP_CONTENT_TYPE }), input, msg, o.settings);
  }
  return doc.end({ prettyPrint: true });
}
