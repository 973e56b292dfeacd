// The logs every call writes, as the API layer sees them: the running log (one row per
// authenticated call; it feeds usage and billing) and the size-capped error log.
export type { ErrorLog } from '../../store/logs/error-log.ts';
export type { RunningLogRepo as RunningLog } from '../../store/logs/running-log-repo.ts';
