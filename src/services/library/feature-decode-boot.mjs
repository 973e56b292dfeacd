// Worker entry: register the TypeScript loader in this thread, then load the .ts worker.
import { register } from 'tsx/esm/api';
register();
await import('./feature-decode-worker.ts');
