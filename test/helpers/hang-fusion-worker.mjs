// Test-only fusion worker: spins forever on any task.
import { parentPort } from 'node:worker_threads';
parentPort.on('message', () => { for (;;); });
