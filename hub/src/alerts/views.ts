/** Builds what people see of an alert from its record, its history and its rule. */
import type { Registry } from '../config/registry.js';
import type { AlertFilter, AlertRecord, AlertStore, DeviceScope } from '../store/types.js';
import type { CompiledRule, LocalizedText, RuleTarget } from './rule.js';
import type { AlertHistoryEntry, AlertView } from './types.js';

const EVENT_WORDS: Partial<Record<AlertHistoryEntry['kind'], LocalizedText>> = {
  acknowledged: { vi: 'Đã xác nhận', en: 'Acknowledged' },
  assigned: { vi: 'Đã giao', en: 'Assigned' },
  shelved: { vi: 'Tạm ẩn để bảo trì', en: 'Shelved for maintenance' },
  unshelved: { vi: 'Hết tạm ẩn', en: 'Unshelved' },
  closed: { vi: 'Đã đóng', en: 'Closed' },
  stale: { vi: 'Dữ liệu cũ (không có số đo mới)', en: 'Data stale (no new readings)' },
  fresh: { vi: 'Có số đo mới', en: 'Readings again' },
  missed: { vi: 'Sự kiện xảy ra khi mất kết nối', en: 'Missed while offline' },
  announced: { vi: 'Phát hiện từ dữ liệu gửi chậm', en: 'Found in late data' },
  reopened: { vi: 'Mở lại (dao động)', en: 'Reopened (flapping)' },
  'risk-confirmed': { vi: 'Xác nhận cấp độ rủi ro', en: 'Risk level confirmed' },
};

/** One line for an alert event: the episode's message, or what happened to it and who did it. */
export function eventMessage(alert: Pick<AlertView, 'message'>, e: Pick<AlertHistoryEntry, 'kind' | 'by'>): LocalizedText {
  const w = EVENT_WORDS[e.kind];
  if (!w) return alert.message;
  const by = e.by ? { vi: ` (bởi ${e.by})`, en: ` (by ${e.by})` } : { vi: '', en: '' };
  return { vi: `${w.vi}: ${alert.message.vi}${by.vi}`, en: `${w.en}: ${alert.message.en}${by.en}` };
}

const LEVEL_EVENTS = new Set<AlertHistoryEntry['kind']>(['raised', 'escalated', 'deescalated', 'reopened']);

export class AlertViews {
  private rules = new Map<string, CompiledRule>();
  private targets = new Map<string, RuleTarget>();

  constructor(
    private readonly alerts: AlertStore,
    private readonly registry: Registry,
  ) {}

  /** The rules in force (for names, levels and messages); old alerts of removed rules still show. */
  setRules(rules: readonly CompiledRule[]): void {
    this.rules = new Map(rules.map((r) => [r.spec.id, r]));
    this.targets = new Map(rules.flatMap((r) => r.targets.map((t) => [`${r.spec.id}\u0000${t.key}`, t] as const)));
  }

  get(id: number, scope: DeviceScope): AlertView | undefined {
    const a = this.alerts.get(id, scope);
    return a ? this.view(a, this.alerts.events([a.id]).get(a.id) ?? []) : undefined;
  }

  list(filter: AlertFilter): AlertView[] {
    const records = this.alerts.list(filter);
    const events = this.alerts.events(records.map((a) => a.id));
    return records.map((a) => this.view(a, events.get(a.id) ?? []));
  }

  /** The newest alert of a device not closed yet, if any. */
  openAlertFor(dev: string, scope: DeviceScope): AlertView | undefined {
    return this.list({ dev, limit: 20, scope, unclosed: true })[0];
  }

  /** One line for a change: the episode's message, or what a person did to it. */
  changeMessage(alert: AlertView, e: AlertHistoryEntry): LocalizedText {
    return eventMessage(alert, e);
  }

  private view(a: AlertRecord, events: readonly AlertHistoryEntry[]): AlertView {
    const rule = this.rules.get(a.rule);
    const target = this.targets.get(`${a.rule}\u0000${a.target}`);
    const device = a.dev ? this.registry.devices.get(a.dev) : undefined;
    const shownLevel = a.active ? a.level : a.maxLevel;
    const fallback = { vi: `${a.rule} cấp ${a.level} — ${a.target}`, en: `${a.rule} level ${a.level} — ${a.target}` };
    const message = rule && target ? (a.active ? rule.message(target, a.level, a.lastValue) : rule.message(target, 0, a.lastValue, a.maxLevel)) : fallback;
    const commune = this.registry.communes.get(a.communeCode);
    return {
      ...a,
      category: (rule?.category ?? a.category) as AlertView['category'],
      severity: rule ? rule.severity(Math.max(shownLevel, 1)) : 'moderate',
      levelLabel: rule && target ? rule.levelLabel(shownLevel, target) : { vi: `Cấp ${shownLevel}`, en: `Level ${shownLevel}` },
      message,
      ruleName: { vi: rule?.spec.name?.vi ?? a.rule, en: rule?.spec.name?.en ?? a.rule },
      device: device
        ? {
            name: device.name,
            ...(device.station ? { station: device.station } : {}),
            ...(device.river ? { river: device.river } : {}),
            communeCode: device.communeCode,
            provinceCode: device.provinceCode,
            lat: device.lat,
            lon: device.lon,
          }
        : null,
      area: {
        communeCode: a.communeCode,
        provinceCode: a.provinceCode,
        ...(commune ? { communeName: commune.name } : {}),
        lat: target?.area.lat ?? device?.lat ?? 0,
        lon: target?.area.lon ?? device?.lon ?? 0,
      },
      facts: (rule && target ? rule.facts?.(target, a.level, a.maxLevel) : undefined) ?? {},
      history: events.map(({ ts, kind, level, value, by, note }) => {
        // What a level change meant at its time (a CAP message of it reads the same whenever asked).
        const change = LEVEL_EVENTS.has(kind) && level > 0 && rule && target;
        const risk = change ? rule.facts?.(target, level, level)?.candidateRisk : undefined;
        return {
          ts, kind, level, value, by, note,
          ...(change ? { levelLabel: rule.levelLabel(level, target), severity: rule.severity(level) } : {}),
          ...(typeof risk === 'number' ? { candidateRiskLevel: risk } : {}),
        };
      }),
    };
  }
}
