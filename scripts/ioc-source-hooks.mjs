// Module resolve hook (node:module register): adds the "ioc-source" export condition, so that
// @ioc/shared and the other workspace packages resolve to their TypeScript sources — what
// `node --conditions=ioc-source` does on the command line, for a process already running.
export async function resolve(specifier, context, nextResolve) {
  const conditions = context.conditions.includes('ioc-source') ? context.conditions : [...context.conditions, 'ioc-source'];
  return nextResolve(specifier, { ...context, conditions });
}
