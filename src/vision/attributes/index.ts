// The "attributes" task: gender (Human's faceres), age (faceplugin's SSR-Net), expression
// (7 classes), eye state (per eye), and head pose (from the face mesh when the mesh task ran for
// this face). Each model was picked on bench/attributes.ts (docs/MODELS.md): faceres reads gender
// far better than fr_gender, but its age reads some adults as 16, so age stays with fr_age.
// The faceplugin sub-models run only when the model set provides them; faceres comes from
// @vladmandic/human's package (like the mesh) and runs for every set that has an attributes
// task. What is not measured stays undefined, never guessed.
import type { TaskModel } from '../task-model.ts';
import type { AnalyzeOptions, AttributeKind, Face, RgbImage } from '../types.ts';
import type { ModelSet } from '../model-set.ts';
import { createSession, type Session } from '../ort.ts';
import { headPoseFromMesh } from '../mesh/head-pose.ts';
import { runSsr, ssrInput } from './age-gender.ts';
import { FaceResModel } from './faceres.ts';
import { runExpression, type Expression } from './expression.ts';
import { runEyes } from './eye-state.ts';

type Role = 'age' | 'expression' | 'eye';
const ROLES: Role[] = ['age', 'expression', 'eye'];

export class AttributesModel implements TaskModel {
  readonly task = 'attributes' as const;
  private readonly sessions = new Map<Role, Session>();
  private readonly faceres: FaceResModel | null;
  private prepared = false;
  constructor(private readonly files: Partial<Record<Role, string>>, opts: { faceres?: boolean } = {}) {
    this.faceres = opts.faceres === false ? null : new FaceResModel();
  }

  async prepare(): Promise<void> {
    for (const role of ROLES) {
      const f = this.files[role];
      if (f && !this.sessions.has(role)) this.sessions.set(role, await createSession(f));
    }
    await this.faceres?.prepare();
    this.prepared = true;
  }

  async run(img: RgbImage, face: Face, opts?: AnalyzeOptions): Promise<void> {
    if (!this.prepared) await this.prepare();
    const want = (k: AttributeKind) => !opts?.attributeKinds || opts.attributeKinds.includes(k);
    const a = (face.attributes ??= {});
    const age = want('age') ? this.sessions.get('age') : undefined;
    if (age) a.age = Math.max(0, Math.min(100, (await runSsr(age, ssrInput(img, face.box))) * 101));
    if (this.faceres && want('gender')) a.gender = { male: Math.max(0, Math.min(1, (await this.faceres.predict(img, face)).male)) };
    const expr = want('expression') ? this.sessions.get('expression') : undefined;
    if (expr) {
      const probabilities = await runExpression(expr, img, face.box);
      const [label, probability] = Object.entries(probabilities).sort((x, y) => y[1] - x[1])[0];
      a.expression = { label: label as Expression, probability, probabilities };
    }
    const eye = want('eye') ? this.sessions.get('eye') : undefined;
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
  // faceres replaces the set's `gender` model (fr_gender measured far worse); a set without a
  // gender role gets no gender, as before, and loads no tfjs model for it.
  return Object.keys(files).length || set.has('gender') ? new AttributesModel(files, { faceres: set.has('gender') }) : null;
}
