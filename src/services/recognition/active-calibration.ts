// The Score calibration every process uses: the operator's active fit from the data dir
// (`facevault calibrate`), else the shipped one. Read once at start. A broken file stops the
// start rather than silently changing what every Score means.
import { CalibrationFiles } from '../../store/calibration/calibration-files.ts';
import { CALIBRATION_3_0, parseCalibration, scoreScales, type Calibration, type ScoreScales } from '../../vision/calibration.ts';

export type { ScoreScales } from '../../vision/calibration.ts';

export interface ActiveCalibration {
  calibration: Calibration;
  /** Stored version number, or null for the shipped calibration. */
  version: number | null;
}

export function loadActiveCalibration(dataDir: string, modelVersion = '3.0'): ActiveCalibration {
  const files = new CalibrationFiles(dataDir, modelVersion);
  let stored;
  try {
    stored = files.active();
    if (!stored) return { calibration: CALIBRATION_3_0, version: null };
    const cal = parseCalibration((stored.body as { calibration?: unknown }).calibration);
    if (cal.modelVersion !== modelVersion) throw new Error(`fitted for FaceModelVersion ${cal.modelVersion}, not ${modelVersion}`);
    return { calibration: cal, version: stored.version };
  } catch (e) {
    throw new Error(`score calibration in ${files.dir} is unusable (${(e as Error).message}); fix it or run \`facevault calibrate --revert\``);
  }
}

export const activeScoreScales = (dataDir: string): ScoreScales => scoreScales(loadActiveCalibration(dataDir).calibration);
