// Action declarations by (service, name) for the current versions and (service, version, name)
// for an older version's own declarations. An admin extension owned by `facevault` answers
// under every version; every other action only under its own service's versions. An older
// version's action without its own declaration is served by the current one (same SDK model).
import type { ServiceName } from '../../domain/call.ts';
import { ACTIONS, CURRENT_VERSION, VERSION_ACTIONS, VERSIONS } from './table.ts';
import { compile, type ActionDef, type CompiledAction } from './define.ts';

export class ActionRegistry {
  private readonly byKey = new Map<string, CompiledAction>();

  constructor(defs: readonly ActionDef<any>[] = []) {
    for (const d of defs) this.add(d);
  }

  add(def: ActionDef<any>): void {
    if (def.version && def.version !== CURRENT_VERSION[def.owner as ServiceName]) {
      if (VERSIONS[def.version] !== def.owner || !VERSION_ACTIONS[def.version].has(def.name)) throw new Error(`${def.owner}@${def.version}:${def.name} is not in the action table`);
      const key = `${def.owner}@${def.version}:${def.name}`;
      if (this.byKey.has(key)) throw new Error(`${key} is declared twice`);
      this.byKey.set(key, compile(def));
      return;
    }
    const services: ServiceName[] = def.owner === 'facevault' ? ['iai', 'facefusion', 'vclm'] : [def.owner];
    const compiled = compile(def);
    for (const s of services) {
      if (!ACTIONS[s].has(def.name)) throw new Error(`${s}:${def.name} is not in the action table`);
      const key = `${s}:${def.name}`;
      if (this.byKey.has(key)) throw new Error(`${key} is declared twice`);
      this.byKey.set(key, compiled);
    }
  }

  /** The declaration answering `action` under `version` (default: the service's current one). */
  get(service: ServiceName, action: string, version?: string): CompiledAction | undefined {
    if (version && version !== CURRENT_VERSION[service]) {
      const own = this.byKey.get(`${service}@${version}:${action}`);
      if (own) return own;
      if (VERSIONS[version] !== service || !VERSION_ACTIONS[version]?.has(action)) return undefined;
    }
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
