// Wires each capability's handlers into the action table. Capabilities are added one
// file each as they are implemented; anything not registered answers UnsupportedOperation.
import type { App } from '../../app.ts';
import { registerPrivacy } from './privacy.ts';
import { registerFusion } from './fusion.ts';
import { registerAnalysis } from './analysis.ts';
import { registerLibrary } from './library.ts';
import { registerRecognition } from './recognition.ts';

export async function registerActions(app: App): Promise<void> {
  registerPrivacy(app);
  registerFusion(app);
  registerAnalysis(app);
  registerLibrary(app);
  registerRecognition(app);
}
