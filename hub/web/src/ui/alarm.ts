/**
 * The watch desk's alarm sound: a distinct pattern for a new BĐ3-or-higher flood and for a fire,
 * synthesised with Web Audio (no sound files), repeating until the operator acknowledges.
 * Browsers allow sound only after a user gesture: the context is unlocked by the login click or
 * the "enable sound" button. `document.documentElement.dataset.alarm` tells what is sounding
 * (the browser tests read it; screen readers get the flashing row's text).
 */
export type AlarmKind = 'flood' | 'fire';

const PATTERNS: Record<AlarmKind, Array<[freq: number, ms: number]>> = {
  // falling two-tone, like a flood siren
  flood: [[880, 350], [660, 350], [880, 350], [660, 350]],
  // fast high pulses, like a fire alarm bell
  fire: [[1400, 120], [0, 80], [1400, 120], [0, 80], [1400, 120], [0, 400]],
};

let ctx: AudioContext | null = null;
let sounding: AlarmKind | null = null;
let loop: ReturnType<typeof setTimeout> | null = null;
const listeners = new Set<() => void>();
export let alarmPlays = 0;

export function unlockSound(): void {
  try {
    ctx ??= new AudioContext();
    if (ctx.state === 'suspended') void ctx.resume();
  } catch {
    ctx = null;
  }
  for (const f of listeners) f();
}

export function soundEnabled(): boolean {
  return ctx !== null && ctx.state === 'running';
}

export function onSoundChange(f: () => void): () => void {
  listeners.add(f);
  return () => void listeners.delete(f);
}

function playPattern(kind: AlarmKind): number {
  if (!ctx) return 600;
  let t = ctx.currentTime + 0.02;
  for (const [freq, ms] of PATTERNS[kind]) {
    if (freq > 0) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = kind === 'fire' ? 'square' : 'sine';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.25, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + ms / 1000);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t);
      osc.stop(t + ms / 1000);
    }
    t += ms / 1000;
  }
  alarmPlays += 1;
  return PATTERNS[kind].reduce((s, [, ms]) => s + ms, 0) + 700;
}

/** Starts (or switches) the alarm; fire outranks flood. */
export function soundAlarm(kind: AlarmKind): void {
  if (sounding === 'fire' && kind === 'flood') return;
  sounding = kind;
  document.documentElement.dataset.alarm = kind;
  if (loop) clearTimeout(loop);
  const tick = () => {
    if (!sounding) return;
    loop = setTimeout(tick, playPattern(sounding));
  };
  tick();
}

export function silenceAlarm(): void {
  sounding = null;
  delete document.documentElement.dataset.alarm;
  if (loop) clearTimeout(loop);
  loop = null;
}

export function currentAlarm(): AlarmKind | null {
  return sounding;
}
