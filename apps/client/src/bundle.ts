#!/usr/bin/env node
/**
 * Builds the client app as shipped to users: `dist/splitrelay-client.mjs` plus lazily loaded
 * chunks, one file per piece instead of ~400 modules across the workspace and node_modules.
 *
 * Why: a client starts on a user's demand, and its cold start is dominated by Node resolving,
 * reading and instantiating modules (docs/benchmarks.md "Cold start": ~250 ms from the sources,
 * ~70 ms bundled). Code only some clients need (undici for the HTTP proxy's absolute-form
 * requests, ws for the WebSocket carrier) stays behind dynamic imports, which become separate
 * chunks that a CONNECT-only client never reads.
 *
 *   node apps/client/src/bundle.ts        (or: pnpm run build)
 */
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

export const CLIENT_BUNDLE_DIR = fileURLToPath(new URL('../dist/', import.meta.url));
export const CLIENT_BUNDLE = `${CLIENT_BUNDLE_DIR}splitrelay-client.mjs`;

const BUILTIN = new RegExp(
  `^(node:)?(${builtinModules.map((m) => m.replace('/', '\\/')).join('|')})$`,
);

/**
 * `import http from 'node:http'` in an ES module makes Node build the module's namespace, which
 * reads every export, lazy getters included: `http.WebSocket` loads Node's internal undici
 * (~30 ms, a fifth of the bundled start) and `tls.rootCertificates` parses every root CA.
 * Served instead as `process.getBuiltinModule(...)` with its data properties as named exports,
 * a getter runs only if the code reads it.
 */
const builtinsWithoutGetters: Plugin = {
  name: 'builtins-without-getters',
  setup(b) {
    // require() of a builtin stays Node's own (CommonJS gets the module object, no namespace).
    b.onResolve({ filter: BUILTIN }, (args) =>
      args.kind === 'require-call'
        ? undefined
        : {
            path: args.path.startsWith('node:') ? args.path : `node:${args.path}`,
            namespace: 'builtin',
          },
    );
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => {
      const module = process.getBuiltinModule(args.path) as object;
      const names = Object.entries(Object.getOwnPropertyDescriptors(module))
        .filter(([name, d]) => d.get === undefined && /^[A-Za-z_$][\w$]*$/.test(name))
        .map(([name]) => name)
        .filter((name) => name !== 'default');
      return {
        contents: [
          `const m = process.getBuiltinModule(${JSON.stringify(args.path)});`,
          'export default m;',
          ...names.map((name) => `export const ${name} = m.${name};`),
        ].join('\n'),
        loader: 'js',
      };
    });
  },
};

export async function bundleClient(): Promise<string> {
  await build({
    entryPoints: { 'splitrelay-client': fileURLToPath(new URL('./main.js', import.meta.url)) },
    outdir: CLIENT_BUNDLE_DIR,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node26',
    sourcemap: 'linked',
    legalComments: 'linked',
    logLevel: 'warning',
    plugins: [builtinsWithoutGetters],
    // CommonJS dependencies (pino, zod's CJS fallbacks) call require() for Node built-ins;
    // an ES module has none unless it makes one.
    banner: {
      js: "import { createRequire as __splitrelayRequire } from 'node:module'; const require = __splitrelayRequire(import.meta.url);",
    },
  });
  return CLIENT_BUNDLE;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${await bundleClient()}\n`);
}
