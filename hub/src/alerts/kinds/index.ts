/** The rule kinds: adding one is its file and one line here. */
import type { RuleKind } from '../rule.js';
import { accumulationKind } from './accumulation.js';
import { compositeKind } from './composite.js';
import { floodLevelsKind } from './flood-levels.js';
import { gatewayOfflineKind } from './gateway-offline.js';
import { gatewayProblemKind } from './gateway-problem.js';
import { levelsKind } from './levels.js';
import { noDataKind } from './no-data.js';
import { rateKind } from './rate.js';
import { suspectSensorKind } from './suspect-sensor.js';

export const RULE_KINDS: ReadonlyMap<string, RuleKind> = new Map(
  [floodLevelsKind, levelsKind, rateKind, accumulationKind, compositeKind, noDataKind, suspectSensorKind, gatewayOfflineKind, gatewayProblemKind].map((k) => [k.kind, k]),
);
