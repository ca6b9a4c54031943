/**
 * The range of each reaper setting a deployment may choose (CDK context on
 * AWS, checked at synth and again when the sweep's function starts).
 */
import type { ReaperSettings } from './rules.ts';

const YEAR_SECONDS = 365 * 86_400;
const DAY_SECONDS = 86_400;

export const REAPER_LIMITS: Readonly<Record<keyof ReaperSettings, { min: number; max: number }>> = {
  // 0: no ceiling, no paused_max_age.
  maxLifetimeCeilingSeconds: { min: 0, max: YEAR_SECONDS },
  pausedMaxAgeSeconds: { min: 0, max: YEAR_SECONDS },
  stuckGraceSeconds: { min: 0, max: DAY_SECONDS },
  // At least a minute, so a create in flight is never taken for an orphan.
  orphanGraceSeconds: { min: 60, max: DAY_SECONDS },
  // 0: never.
  unknownLooksBeforeFailed: { min: 0, max: 1000 },
};
