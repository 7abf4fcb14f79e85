/**
 * Notices when the host's network changes (a modem re-dials, a cable comes back) by polling
 * os.networkInterfaces(): a gateway in backoff then retries at once instead of sleeping out its delay.
 */
import { networkInterfaces } from 'node:os';

/** Non-internal addresses per interface, as one comparable string. */
export function networkSignature(ifaces: ReturnType<typeof networkInterfaces> = networkInterfaces()): string {
  const parts: string[] = [];
  for (const [name, addrs] of Object.entries(ifaces)) {
    for (const a of addrs ?? []) if (!a.internal) parts.push(`${name}/${a.address}`);
  }
  return parts.sort().join(',');
}

export class NetWatch {
  private timer: NodeJS.Timeout | null = null;
  private last = '';

  constructor(
    private readonly onChange: () => void,
    private readonly everyMs = 3000,
    private readonly signature: () => string = networkSignature,
  ) {}

  start(): void {
    if (this.timer) return;
    this.last = this.signature();
    this.timer = setInterval(() => this.check(), this.everyMs);
    this.timer.unref(); // never what keeps the process alive
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private check(): void {
    let sig: string;
    try {
      sig = this.signature();
    } catch {
      return;
    }
    if (sig === this.last) return;
    this.last = sig;
    this.onChange();
  }
}
