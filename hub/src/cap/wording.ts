/**
 * The words of a CAP message in Vietnamese and English: event names, level names, headline,
 * description and instructions. Vietnamese numbers use a decimal comma; parameters (./message.ts)
 * keep machine-readable values.
 */
import { localTimeText } from './time.js';
import type { CapAlertInput, CapHazard, CapSeverityLevel, CapStep, CapText } from './types.js';

/** CAP `event`: the kind of hazard. */
export const EVENT: Record<CapHazard, CapText> = {
  flood: { vi: 'Báo động lũ', en: 'Flood warning' },
  rain: { vi: 'Mưa lớn', en: 'Heavy rainfall' },
  fire: { vi: 'Cháy', en: 'Fire' },
  technical: { vi: 'Sự cố thiết bị quan trắc', en: 'Monitoring equipment fault' },
};

/** Short names for headlines ("Lũ tại …"). */
const SUBJECT: Record<CapHazard, CapText> = {
  flood: { vi: 'Lũ', en: 'Flood' },
  rain: { vi: 'Mưa lớn', en: 'Heavy rainfall' },
  fire: { vi: 'Cháy', en: 'Fire' },
  technical: { vi: 'Sự cố kỹ thuật', en: 'Technical fault' },
};

const ROMAN = ['', 'I', 'II', 'III'];

/**
 * A level's name when the alert model gives none. Flood: Báo động I–III (QĐ 05/2020/QĐ-TTg), then
 * the tiers above BĐ3 the rules add (BĐ3 + 0.3 m, BĐ3 + 1.0 m, the historical peak).
 */
export function defaultLevelLabel(hazard: CapHazard, level: number): CapText {
  switch (hazard) {
    case 'flood':
      if (level >= 1 && level <= 3) return { vi: `Báo động ${ROMAN[level]}`, en: `Alarm level ${ROMAN[level]}` };
      if (level === 4) return { vi: 'Trên báo động III 0,3 m', en: '0.3 m above alarm level III' };
      if (level === 5) return { vi: 'Trên báo động III 1,0 m', en: '1.0 m above alarm level III' };
      return { vi: 'Vượt đỉnh lũ lịch sử', en: 'Above the historical flood peak' };
    case 'rain':
      return { vi: `Ngưỡng mưa cấp ${level}`, en: `Rainfall band ${level}` };
    case 'fire':
      return level > 1 ? { vi: `Cháy cấp ${level}`, en: `Fire level ${level}` } : { vi: 'Phát hiện cháy', en: 'Fire detected' };
    case 'technical':
      return { vi: `Mức ${level}`, en: `Level ${level}` };
  }
}

/** What a technical alert is about, by its rule kind (its level says little). */
const TECHNICAL: Array<[RegExp, CapText]> = [
  [/no-data|offline|stale/, { vi: 'Mất số liệu', en: 'No data' }],
  [/suspect/, { vi: 'Cảm biến nghi hỏng', en: 'Suspect sensor' }],
  [/gateway/, { vi: 'Sự cố gateway', en: 'Gateway problem' }],
];

/**
 * A level's name: as the alert model named it at an event of that level up to `asOf` (later events
 * never change an earlier message), else the default.
 */
export function levelLabel(input: CapAlertInput, level: number, asOf: number): CapText {
  const named = input.steps.find((s) => s.ts <= asOf && s.level === level && s.levelLabel)?.levelLabel;
  if (named) return named;
  if (input.hazard === 'technical') return TECHNICAL.find(([re]) => re.test(input.rule))?.[1] ?? defaultLevelLabel('technical', level);
  return defaultLevelLabel(input.hazard, level);
}

/** "Trạm Kim Long (sông Hương)" / "Kim Long station (Hương river)", else the device's name. */
export function placeText(input: CapAlertInput): CapText {
  const { station, river, deviceName } = input.place;
  if (!station) return { vi: deviceName, en: deviceName };
  return {
    vi: `Trạm ${station}${river ? ` (sông ${river})` : ''}`,
    en: `${station} station${river ? ` (${river} river)` : ''}`,
  };
}

/** A measured value with its unit: "2,12 m" / "2.12 m". */
export function valueText(value: number, unit: string): CapText {
  const en = Number.isInteger(value) ? String(value) : value.toFixed(2);
  const u = unit && unit !== 'bool' ? ` ${unit}` : '';
  return { vi: `${en.replace('.', ',')}${u}`, en: `${en}${u}` };
}

/** Google Public Alerts shows at most 140 characters of a headline. */
const HEADLINE_MAX = 140;

function clip(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

export function headline(input: CapAlertInput, step: CapStep, ended: boolean): CapText {
  const place = placeText(input);
  const subject = SUBJECT[input.hazard];
  if (ended) {
    return {
      vi: clip(`Kết thúc: ${subject.vi.toLowerCase()} tại ${place.vi}`, HEADLINE_MAX),
      en: clip(`Ended: ${subject.en.toLowerCase()} at ${place.en}`, HEADLINE_MAX),
    };
  }
  const label = levelLabel(input, step.level, step.ts);
  return {
    vi: clip(`${subject.vi} tại ${place.vi}: ${label.vi}`, HEADLINE_MAX),
    en: clip(`${subject.en} at ${place.en}: ${label.en}`, HEADLINE_MAX),
  };
}

/**
 * What happened, where and when, and the episode's peak; one sentence per line. `peakLevel` is
 * the highest level of the episode up to this message.
 */
export function description(input: CapAlertInput, step: CapStep, ended: boolean, peakLevel: number): CapText {
  const vi: string[] = [];
  const en: string[] = [];
  const place = placeText(input);
  const at = localTimeText(step.ts);
  const peak = levelLabel(input, peakLevel, step.ts);
  if (ended) {
    const how = step.kind === 'closed' ? { vi: 'Người trực đã đóng báo động', en: 'The duty officer closed the alert' } : { vi: 'Hết báo động', en: 'The alarm cleared' };
    vi.push(`${how.vi} tại ${place.vi} lúc ${at.vi} (giờ Việt Nam). Mức cao nhất trong đợt: ${peak.vi}.`);
    en.push(`${how.en} at ${place.en} at ${at.en} (UTC+7). Highest level of the episode: ${peak.en}.`);
  } else {
    const label = levelLabel(input, step.level, step.ts);
    if (input.hazard === 'flood' || input.hazard === 'rain') {
      // "Mực nước tại Trạm Kim Long (sông Hương) lên mức Báo động III lúc …"
      const verb =
        step.kind === 'escalated' ? { vi: 'lên mức', en: 'rose to' } : step.kind === 'deescalated' ? { vi: 'xuống mức', en: 'fell to' } : { vi: 'đạt mức', en: 'reached' };
      vi.push(`${input.measure.name.vi} tại ${place.vi} ${verb.vi} ${label.vi} lúc ${at.vi} (giờ Việt Nam).`);
      en.push(`${input.measure.name.en} at ${place.en} ${verb.en} ${label.en} at ${at.en} (UTC+7).`);
    } else {
      vi.push(`${label.vi} tại ${place.vi} lúc ${at.vi} (giờ Việt Nam).`);
      en.push(`${label.en} at ${place.en} at ${at.en} (UTC+7).`);
    }
    if (peakLevel > step.level) {
      vi.push(`Mức cao nhất trong đợt: ${peak.vi}.`);
      en.push(`Highest level of the episode: ${peak.en}.`);
    }
  }
  if (step.value !== null) {
    const v = valueText(step.value, input.measure.unit);
    vi.push(`${input.measure.name.vi}: ${v.vi}.`);
    en.push(`${input.measure.name.en}: ${v.en}.`);
  }
  if (input.place.station) {
    vi.push(`Trạm đo: ${input.place.station}${input.place.river ? `, sông ${input.place.river}` : ''}.`);
    en.push(`Gauging station: ${input.place.station}${input.place.river ? `, ${input.place.river} river` : ''}.`);
  }
  if (step.candidateRiskLevel !== undefined && !ended) {
    vi.push(`Cấp độ rủi ro thiên tai đề xuất: cấp ${step.candidateRiskLevel} (chờ cơ quan dự báo xác nhận).`);
    en.push(`Candidate disaster risk level: ${step.candidateRiskLevel} (to be confirmed by the forecasting agency).`);
  }
  if (input.missed) {
    vi.push('Đợt này đã bắt đầu và kết thúc khi mất kết nối với trạm: đây là báo cáo, không phải báo động.');
    en.push('This episode began and ended while the station was cut off: a report, not an alarm.');
  }
  if (input.exercise) {
    vi.push('DIỄN TẬP — không phải báo động thật.');
    en.push('EXERCISE — not a real alarm.');
  }
  return { vi: vi.join('\n'), en: en.join('\n') };
}

const INSTRUCTION: Record<CapHazard, Partial<Record<CapSeverityLevel, CapText>>> = {
  flood: {
    moderate: {
      vi: 'Theo dõi chặt chẽ mực nước và bản tin dự báo lũ; chuẩn bị sẵn phương án phòng, tránh.',
      en: 'Follow the water level and flood bulletins closely; get ready to take protective action.',
    },
    severe: {
      vi: 'Không đi qua ngầm, tràn và vùng trũng ngập nước; kê cao tài sản, sẵn sàng sơ tán khi chính quyền địa phương yêu cầu.',
      en: 'Do not cross flooded fords, spillways or low ground; move belongings up and be ready to evacuate when local authorities ask.',
    },
    extreme: {
      vi: 'Nguy hiểm: đưa người và tài sản ra khỏi vùng ngập và vùng trũng ven sông; chấp hành ngay lệnh sơ tán của chính quyền địa phương.',
      en: "Danger: move people and belongings out of flooded and low-lying riverside areas; follow local authorities' evacuation orders at once.",
    },
  },
  rain: {
    moderate: {
      vi: 'Theo dõi bản tin dự báo mưa; đề phòng ngập úng cục bộ.',
      en: 'Follow rainfall bulletins; watch for local flooding.',
    },
    severe: {
      vi: 'Đề phòng lũ quét, sạt lở đất ở vùng núi và ngập úng ở vùng trũng; hạn chế đi lại.',
      en: 'Beware of flash floods and landslides on hillsides and flooding in low areas; limit travel.',
    },
    extreme: {
      vi: 'Nguy cơ rất cao xảy ra lũ quét, sạt lở đất: rời khỏi khu vực nguy hiểm, chấp hành lệnh sơ tán của chính quyền địa phương.',
      en: "Very high risk of flash floods and landslides: leave dangerous areas and follow local authorities' evacuation orders.",
    },
  },
  fire: {
    severe: {
      vi: 'Rời khỏi khu vực ngay, không dùng thang máy; gọi 114 và tránh xa đám cháy.',
      en: 'Leave the area at once and do not use lifts; call 114 and keep away from the fire.',
    },
  },
  technical: {
    minor: {
      vi: 'Kỹ thuật viên kiểm tra thiết bị và đường truyền; số liệu từ điểm đo này có thể không đầy đủ.',
      en: 'Technicians: check the device and its link; data from this station may be incomplete.',
    },
  },
};

const ENDED_INSTRUCTION: CapText = {
  vi: 'Tình trạng báo động đã kết thúc; tiếp tục theo dõi thông tin của chính quyền địa phương.',
  en: 'The alarm is over; keep following information from local authorities.',
};

const MISSED_INSTRUCTION: CapText = {
  vi: 'Không cần hành động: đợt này đã kết thúc. Kiểm tra hậu quả nếu cần.',
  en: 'No action needed: the episode is over. Check for its consequences if needed.',
};

/** The hazard's advice for a severity, else the nearest milder one, else the nearest worse one. */
export function instruction(hazard: CapHazard, severity: CapSeverityLevel, ended: boolean, missed: boolean): CapText {
  if (ended) return ENDED_INSTRUCTION;
  if (missed) return MISSED_INSTRUCTION;
  const order: CapSeverityLevel[] = ['minor', 'moderate', 'severe', 'extreme'];
  const table = INSTRUCTION[hazard];
  const i = order.indexOf(severity);
  for (let k = i; k >= 0; k--) if (table[order[k]!]) return table[order[k]!]!;
  for (let k = i + 1; k < order.length; k++) if (table[order[k]!]) return table[order[k]!]!;
  return ENDED_INSTRUCTION;
}
