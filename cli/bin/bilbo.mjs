#!/usr/bin/env node
// TypeScript support (tsx) and Node 20 polyfills, then the CLI itself.
import '../../scripts/register.mjs';

const { run } = await import('../main.ts');
await run();
