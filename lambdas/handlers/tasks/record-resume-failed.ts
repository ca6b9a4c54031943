import { recordResumeFailed } from '../../domain/workflow/resume-steps.ts';
import { machineStepsFromEnvironment } from '../composition/machine-steps.ts';
import { lambdaTask } from './task-handler.ts';

export const handler = lambdaTask('recordResumeFailed', recordResumeFailed, machineStepsFromEnvironment());
