import { useEffect, useState } from 'preact/hooks';

/** The current time, refreshed every `ms`: ages ("12 s ago") grow between readings. */
export function useNow(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}
