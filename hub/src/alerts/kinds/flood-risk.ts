/**
 * Candidate flood disaster-risk level (cấp độ rủi ro thiên tai do lũ, QĐ 18/2021/QĐ-TTg, Điều 45)
 * from the highest alarm tier reached at a station and the station's zone (khu vực 1–4).
 *
 * A candidate only, shown "to be confirmed": the official level is issued by the forecasting
 * agency from the *forecast* flood level, and an operator confirms it (audited). The article's
 * cases for one river basin, as far as they are known here; rows the article text has not been
 * checked for are marked (*) and follow the agency's usual practice (level 3 above BĐ3):
 *
 * | reached                | zone 1 | zone 2 | zone 3 | zone 4 |
 * |------------------------|--------|--------|--------|--------|
 * | BĐ1 ≤ h < BĐ2          | 1      | 1      | 1      | 2      |
 * | BĐ2 ≤ h < BĐ3          | 1      | 2      | 2      | 3      |
 * | BĐ3 ≤ h < BĐ3 + 0.3 m  | 2      | 2      | 3 (*)  | 3      |
 * | BĐ3 + 0.3 ≤ h < + 1 m  | 2      | 2      | 3 (*)  | 4      |
 * | h ≥ BĐ3 + 1.0 m        | 3 (*)  | 3 (*)  | 3 (*)  | 4 (*)  |
 * | above the historical peak | 5   | 5      | 5      | 5      |
 */
export interface RiskInput {
  /** Highest BĐ reached, 0–3. */
  bd: number;
  /** Metres above BĐ3 of the highest tier reached (0 below or at BĐ3). */
  aboveBd3M: number;
  /** The station's historical flood peak was exceeded. */
  historic: boolean;
}

export const RISK_COLOURS = {
  1: { vi: 'xanh dương nhạt', en: 'light blue', hex: '#a6d8f0' },
  2: { vi: 'vàng nhạt', en: 'light yellow', hex: '#fff3a0' },
  3: { vi: 'da cam', en: 'orange', hex: '#f5a623' },
  4: { vi: 'đỏ', en: 'red', hex: '#d0021b' },
  5: { vi: 'tím', en: 'purple', hex: '#7b1fa2' },
} as const;

/** 0 when no level applies (below BĐ1, or no zone). */
export function candidateRiskLevel(zone: number, r: RiskInput): number {
  if (zone < 1 || zone > 4 || r.bd < 1) return 0;
  if (r.historic) return 5;
  const z = zone - 1;
  if (r.bd === 1) return [1, 1, 1, 2][z]!;
  if (r.bd === 2) return [1, 2, 2, 3][z]!;
  if (r.aboveBd3M >= 1.0) return [3, 3, 3, 4][z]!;
  if (r.aboveBd3M >= 0.3) return [2, 2, 3, 4][z]!;
  return [2, 2, 3, 3][z]!;
}
