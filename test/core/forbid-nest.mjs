// Loaded with `node --import`: any import or require() of Nest, rxjs or reflect-metadata fails the
// process, so a worker that runs proves that nestjs-kettle/core needs none of them. Both loaders
// are hooked: the core entry's ES module re-exports the CommonJS build, which loads with require().
import Module, { register } from 'node:module';

const FORBIDDEN = /^(@nestjs\/|rxjs|reflect-metadata)/;

register(
  'data:text/javascript,' +
    encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (${FORBIDDEN}.test(specifier))
    throw new Error('forbidden import of ' + specifier + ' from ' + context.parentURL);
  return next(specifier, context);
}`),
);

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (FORBIDDEN.test(request))
    throw new Error(`forbidden require of ${request} from ${parent?.filename}`);
  return resolveFilename.call(this, request, parent, ...rest);
};
