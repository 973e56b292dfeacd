// Worker entry: Node 20 does not apply `--import tsx` from a Worker's execArgv to its entry
// module, so register tsx here, then load the TypeScript worker.
import { register } from 'tsx/esm/api';
register();
await import('./worker.ts');
