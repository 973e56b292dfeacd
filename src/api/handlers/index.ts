// Wires each capability's handlers into the action table. Capabilities are added one
// file each as they are implemented; anything not registered answers UnsupportedOperation.
import type { App } from '../../app.ts';

export async function registerActions(_app: App): Promise<void> {}
