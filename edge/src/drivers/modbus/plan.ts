/**
 * Which Modbus requests one poll makes: the profile's points grouped per area into as few reads as
 * the protocol allows. A round trip to a field device costs far more than a few unused registers,
 * so points a short gap apart share a request.
 */
import { registerCount, type ModbusPoint, type RegisterArea } from '@ioc/shared';

/** Protocol limits per request (Modbus application protocol v1.1b3, FC 1-4). */
export const MAX_REGISTERS_PER_READ = 125;
export const MAX_BITS_PER_READ = 2000;
/** Unused addresses one request may span to avoid a second round trip. */
export const MAX_GAP_REGISTERS = 8;
export const MAX_GAP_BITS = 64;

export interface BlockPoint {
  /** Index into the profile's points. */
  index: number;
  /** Position of the point's first register (or bit) in the block's data. */
  offset: number;
}

export interface ReadBlock {
  area: RegisterArea;
  start: number;
  count: number;
  points: BlockPoint[];
}

export interface PlanOptions {
  /** One request per point: for devices that refuse reads across holes in their map. */
  onePerPoint?: boolean;
}

const AREAS: readonly RegisterArea[] = ['holding', 'input', 'coil', 'discrete'];

function isBitArea(area: RegisterArea): boolean {
  return area === 'coil' || area === 'discrete';
}

export function planReads(points: readonly ModbusPoint[], opts: PlanOptions = {}): ReadBlock[] {
  const blocks: ReadBlock[] = [];
  for (const area of AREAS) {
    const bits = isBitArea(area);
    const maxCount = bits ? MAX_BITS_PER_READ : MAX_REGISTERS_PER_READ;
    const maxGap = bits ? MAX_GAP_BITS : MAX_GAP_REGISTERS;
    const members = points
      .map((point, index) => ({ point, index }))
      .filter((m) => m.point.area === area)
      .sort((a, b) => a.point.address - b.point.address || a.index - b.index);
    let block: ReadBlock | undefined;
    for (const { point, index } of members) {
      const start = point.address;
      const end = start + (bits ? 1 : registerCount(point.type)); // exclusive
      const blockEnd = block ? block.start + block.count : 0;
      const fits =
        block !== undefined &&
        !opts.onePerPoint &&
        start - blockEnd <= maxGap &&
        Math.max(blockEnd, end) - block.start <= maxCount;
      if (block && fits) {
        block.count = Math.max(blockEnd, end) - block.start;
        block.points.push({ index, offset: start - block.start });
      } else {
        block = { area, start, count: end - start, points: [{ index, offset: 0 }] };
        blocks.push(block);
      }
    }
  }
  return blocks;
}
