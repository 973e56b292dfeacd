// CAM-like action policies: "iai:DetectFace", "iai:*", "facefusion:*", "*".
const PATTERN = /^(\*|[a-z]+:(\*|[A-Z][A-Za-z]+))$/;

export function validatePolicy(policy: string[]): string | null {
  for (const p of policy) if (!PATTERN.test(p)) return `"${p}" is not an action pattern (service:Action, service:* or *)`;
  return null;
}

export function allows(policy: string[], service: string, action: string): boolean {
  return policy.some((p) => p === '*' || p === `${service}:*` || p === `${service}:${action}`);
}
