// Worker entry for the fuzz suite: a fresh thread has no TypeScript loader, so register tsx
// here (as src/domain/ts-worker-boot.mjs does), then load the .ts targets.
import { register } from 'tsx/esm/api';
register();
await import('./fuzz-worker.ts');
