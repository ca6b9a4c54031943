#!/usr/bin/env node
// The installed `bilbo` (compiled to dist/cli/bin/bilbo.js): Node 20 polyfills, then the CLI.
// cli/bin/bilbo.mjs is the same entry for a checkout, through tsx.
import '../../scripts/polyfills.mjs';

// The AWS SDK warns on every start that its 2027 releases need Node 22; the
// lockfile pins releases that support Node 20, so the warning is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { run } = await import('../main.ts');
await run();
