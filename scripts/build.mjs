// `npm run build` (and `npm pack`, through prepack): the CLI and everything it
// imports compiled to JavaScript in dist/, the same tree as the sources, with
// the JSON files they import. Plain JavaScript, so it runs without tsx.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
// Imported by the compiled code as it is by the sources; plain JavaScript already.
cpSync(join(root, 'scripts', 'polyfills.mjs'), join(dist, 'scripts', 'polyfills.mjs'));
