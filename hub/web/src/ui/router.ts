/** Path routing with the History API: `/watch/alerts/12` → the pattern `/watch/alerts/:id`. */
import { useEffect, useState } from 'preact/hooks';

const listeners = new Set<(path: string) => void>();

export function navigate(path: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  for (const f of listeners) f(location.pathname);
  window.scrollTo(0, 0);
}

if (typeof window !== 'undefined') window.addEventListener('popstate', () => { for (const f of listeners) f(location.pathname); });

export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    listeners.add(setPath);
    return () => void listeners.delete(setPath);
  }, []);
  return path;
}

/** Params of `pattern` in `path`, or null when it does not match. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('/').filter(Boolean);
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const seg = p[i]!;
    if (seg.startsWith(':')) params[seg.slice(1)] = decodeURIComponent(s[i]!);
    else if (seg !== s[i]) return null;
  }
  return params;
}

/** A same-app link: history navigation, still a real <a href> (new tab, keyboard, screen readers). */
export function linkProps(href: string): { href: string; onClick: (e: MouseEvent) => void } {
  return {
    href,
    onClick: (e: MouseEvent) => {
      if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      e.preventDefault();
      navigate(href);
    },
  };
}
