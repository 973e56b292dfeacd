// The "attributes" task: age and gender (SSR-Net), expression (7 classes), eye state (per eye),
// and head pose (from the face mesh when the mesh task ran for this face). Each sub-model runs
// only when the model set provides it; what is not measured stays undefined, never guessed.
import type { TaskModel } from '../task-model.ts';
import type { Face, RgbImage } from '../types.ts';
import type { ModelSet } from '../model-set.ts';
import { createSession, type Session } from '../ort.ts';
import { headPoseFromMesh } from '../mesh/head-pose.ts';
import { runSsr, ssrInput } from './age-gender.ts';
import { runExpression, type Expression } from './expression.ts';
import { runEyes } from './eye-state.ts';

type Role = 'age' | 'gender' | 'expression' | 'eye';
const ROLES: Role[] = ['age', 'gender', 'expression', 'eye'];

export class AttributesModel implements TaskModel {
  readonly task = 'attributes' as const;
  private readonly sessions = new Map<Role, Session>();
  constructor(private readonly files: Partial<Record<Role, string>>) {}

  async prepare(): Promise<void> {
    for (const role of ROLES) {
      const f = this.files[role];
      if (f && !this.sessions.has(role)) this.sessions.set(role, await createSession(f));
    }
  }

  async run(img: RgbImage, face: Face): Promise<void> {
    if (this.sessions.size === 0) await this.prepare();
    const a = (face.attributes ??= {});
    const age = this.sessions.get('age'), gender = this.sessions.get('gender');
    if (age || gender) {
      const input = ssrInput(img, face.box);
      if (age) a.age = Math.max(0, Math.min(100, (await runSsr(age, input)) * 101));
      if (gender) a.gender = { male: Math.max(0, Math.min(1, await runSsr(gender, input))) };
    }
    const expr = this.sessions.get('expression');
    if (expr) {
      const probabilities = await runExpression(expr, img, face.box);
      const [label, probability] = Object.entries(probabilities).sort((x, y) => y[1] - x[1])[0];
      a.expression = { label: label as Expression, probability, probabilities };
    }
    const eye = this.sessions.get('eye');
    if (eye && face.landmarks68?.length === 68) {
      const e = await runEyes(eye, img, face.landmarks68);
      if (e) a.eyesOpen = e;
    }
    if (face.mesh && face.meshZ && face.mesh.length >= 468) a.pose = headPoseFromMesh(face.mesh, face.meshZ);
  }
}

export function createTaskModel(set: ModelSet): TaskModel | null {
  const files: Partial<Record<Role, string>> = {};
  for (const role of ROLES) if (set.has(role)) files[role] = set.path(role);
  return Object.keys(files).length ? new AttributesModel(files) : null;
}
