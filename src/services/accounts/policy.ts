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
