import { type ProbeReadyInput, probeReady } from '../../domain/workflow/probe-ready.ts';
import { dependency } from '../composition.ts';
import { taskHandler } from './task-handler.ts';

export const handler = taskHandler('probe-ready', (input: ProbeReadyInput) =>
  probeReady(input, {
    store: dependency('store'),
    probe: dependency('probe'),
    clock: dependency('clock'),
    sleep: dependency('sleep'),
    settings: dependency('probeSettings'),
  }),
);
