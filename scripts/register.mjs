// Loaded with `node --import` before any TypeScript entry point: TypeScript
// support through tsx, and the one runtime gap of Node 20 that
// aws-local-stepfunctions needs (Promise.withResolvers arrived in Node 22).
import { register } from 'tsx/esm/api';
import './polyfills.mjs';

register();
