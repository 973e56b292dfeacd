// Module resolve hook for the `facevault` command: a few dependencies that ship both builds are
// loaded through their CommonJS entry. Their ESM builds are hundreds of small files (kysely: 262),
// and every ESM file passes through the loader hooks (tsx's among them) one by one, which made
// importing the app ~1 s slower at cold start. Same package, same version, same API.
const CJS = new Set(['kysely', 'sharp']);

export async function resolve(specifier, context, next) {
  if (CJS.has(specifier)) {
    const conditions = context.conditions.filter((c) => c !== 'import');
    return next(specifier, { ...context, conditions: [...conditions, 'require'] });
  }
  return next(specifier, context);
}
