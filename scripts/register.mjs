// Loaded with `node --import` before any TypeScript entry point: TypeScript
// support through tsx, and what Node 20 lacks for our dependencies
// (Promise.withResolvers, which aws-local-stepfunctions calls).
import { register } from 'tsx/esm/api';
import './polyfills.mjs';

// The AWS SDK warns on every start that its 2027 releases need Node 22; the
// lockfile pins releases that support Node 20, so the warning is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

register();
