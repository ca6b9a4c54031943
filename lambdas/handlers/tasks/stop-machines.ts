import { stopMachines } from '../../domain/workflow/pause-steps.ts';
import { machineStepsFromEnvironment } from '../composition/machine-steps.ts';
import { lambdaTask } from './task-handler.ts';

export const handler = lambdaTask('stopMachines', stopMachines, machineStepsFromEnvironment());
