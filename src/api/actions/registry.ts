// Action declarations by (service, name). An admin extension owned by `facevault` answers under
// every version; every other action only under its own service's version.
import type { ServiceName } from '../../domain/call.ts';
import { ACTIONS } from './table.ts';
import { compile, type ActionDef, type CompiledAction } from './define.ts';

export class ActionRegistry {
  private readonly byKey = new Map<string, CompiledAction>();

  constructor(defs: readonly ActionDef<any>[] = []) {
    for (const d of defs) this.add(d);
  }

  add(def: ActionDef<any>): void {
    const services: ServiceName[] = def.owner === 'facevault' ? ['iai', 'facefusion', 'vclm'] : [def.owner];
    const compiled = compile(def);
    for (const s of services) {
      if (!ACTIONS[s].has(def.name)) throw new Error(`${s}:${def.name} is not in the action table`);
      const key = `${s}:${def.name}`;
      if (this.byKey.has(key)) throw new Error(`${key} is declared twice`);
      this.byKey.set(key, compiled);
    }
  }

  get(service: ServiceName, action: string): CompiledAction | undefined {
    return this.byKey.get(`${service}:${action}`);
  }

  /** Every declaration once (admin extensions are listed under each service but declared once). */
  declarations(): CompiledAction[] {
    return [...new Set(this.byKey.values())];
  }

  implemented(): string[] {
    return [...this.byKey.keys()].sort();
  }
}
