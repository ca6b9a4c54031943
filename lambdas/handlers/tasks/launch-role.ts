import { type LaunchRoleInput, launchRole } from '../../domain/workflow/launch-role.ts';
import { dependency } from '../composition.ts';
import { taskHandler } from './task-handler.ts';

export const handler = taskHandler('launch-role', (input: LaunchRoleInput) =>
  launchRole(input, {
    store: dependency('store'),
    provider: dependency('provider'),
    secrets: dependency('secrets'),
  }),
);
