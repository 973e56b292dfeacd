// CAM-like action policies: "iai:DetectFace", "iai:*", "facefusion:*", "*".
const PATTERN = /^(\*|[a-z]+:(\*|[A-Z][A-Za-z]+))$/;

export function validatePolicy(policy: string[]): string | null {
  for (const p of policy) if (!PATTERN.test(p)) return `"${p}" is not an action pattern (service:Action, service:* or *)`;
  return null;
}

/**
 * Whether a sub-user's policy allows owner:action. facevault's administrative extensions
 * (privacy, usage) need an entry that names the action itself: `*` was granted for the APIs,
 * and a key handed to an app must not be able to erase people or change the privacy policy.
 */
export function allows(policy: string[], owner: string, action: string): boolean {
  if (owner === 'facevault') return policy.includes(`facevault:${action}`);
  return policy.some((p) => p === '*' || p === `${owner}:*` || p === `${owner}:${action}`);
}

/**
 * Whether every pattern of `granted` is within what `own` allows, so a sub-user who may manage
 * keys cannot hand out more than it holds itself (no escalation through CreateSubUserKey).
 */
export function policyWithin(granted: string[], own: string[]): string | null {
  for (const g of granted) {
    const [svc, act] = g === '*' ? ['*', '*'] : g.split(':');
    const ok = g === '*' ? own.includes('*')
      : svc === 'facevault' ? own.includes(g)
      : act === '*' ? own.includes('*') || own.includes(`${svc}:*`)
      : allows(own, svc, act);
    if (!ok) return `"${g}" is more than your own policy allows`;
  }
  return null;
}

/** The policy temporary credentials carry (sts GetFederationToken), as action patterns. */
export interface SessionPolicy {
  allow: string[];
  deny: string[];
}

/** Allowed by the session policy: an allow entry matches (admin extensions by name, as above) and no deny entry does. */
export function sessionAllows(p: SessionPolicy, owner: string, action: string): boolean {
  const denied = p.deny.some((d) => d === '*' || d === `${owner}:*` || d === `${owner}:${action}`);
  return !denied && allows(p.allow, owner, action);
}
