// Boot file of every worker thread (domain/ts-worker.ts): register tsx, then load the entry.
import { register } from 'tsx/esm/api';
register();
await import(process.argv[process.argv.length - 1]);
