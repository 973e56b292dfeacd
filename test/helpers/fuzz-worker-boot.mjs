// Worker entry for the fuzz suite: a fresh thread has no TypeScript loader, so register tsx
// here (as src/vision/inference-worker-boot.mjs does), then load the .ts targets.
import { register } from 'tsx/esm/api';
register();
await import('./fuzz-worker.ts');
