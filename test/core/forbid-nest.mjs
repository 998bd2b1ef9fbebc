// Loaded with `node --import`: any import of Nest, rxjs or reflect-metadata fails the process, so a
// worker that runs proves that nestjs-kettle/core needs none of them.
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (/^(@nestjs\\/|rxjs|reflect-metadata)/.test(specifier))
    throw new Error('forbidden import of ' + specifier + ' from ' + context.parentURL);
  return next(specifier, context);
}`),
);
