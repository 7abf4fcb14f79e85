/**
 * The console's language: Vietnamese unless the user switched (kept in localStorage), `t(key,
 * vars)` with `{name}` placeholders, and a hook that re-renders a component when it changes.
 */
import { useEffect, useState } from 'preact/hooks';
import { CATALOG, type MessageKey } from './catalog.js';
import type { Lang } from './define.js';

export type { Lang } from './define.js';
export type { MessageKey } from './catalog.js';

const STORAGE_KEY = 'ioc.lang';
const listeners = new Set<(l: Lang) => void>();

function initial(): Lang {
  try {
    return localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'vi';
  } catch {
    return 'vi';
  }
}

let current: Lang = initial();
if (typeof document !== 'undefined') document.documentElement.lang = current;

export function lang(): Lang {
  return current;
}

export function setLang(l: Lang): void {
  if (l === current) return;
  current = l;
  try {
    localStorage.setItem(STORAGE_KEY, l);
  } catch {
    // private mode: the choice lasts this page
  }
  document.documentElement.lang = l;
  for (const f of listeners) f(l);
}

export function t(key: MessageKey, vars?: Record<string, string | number>): string {
  const text = CATALOG[key][current];
  return vars ? text.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m)) : text;
}

/** Picks the user's language out of a `{vi, en}` text the hub sent (alert messages, level names). */
export function local(text: { vi: string; en: string } | null | undefined): string {
  return text ? text[current] : '';
}

/** Re-renders the calling component when the language changes; returns it. */
export function useLang(): Lang {
  const [l, set] = useState(current);
  useEffect(() => {
    listeners.add(set);
    return () => void listeners.delete(set);
  }, []);
  return l;
}
