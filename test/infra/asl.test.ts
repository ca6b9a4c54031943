import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allStates,
  type ExtractedWorkflow,
  extractWorkflows,
  placeholderFunctionArn,
} from '../../infra/asl.ts';
import { WORKFLOW_NAMES, type WorkflowName } from '../../lambdas/domain/workflows.ts';
import { TASK_NAMES, taskEntry } from '../../lambdas/handlers/tasks/task-names.ts';
import { type Synthesized, synthesize } from './synth.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..');

describe('extractWorkflows', () => {
  let synth: Synthesized;
  let workflows: Record<WorkflowName, ExtractedWorkflow>;

  beforeAll(() => {
    synth = synthesize();
    workflows = extractWorkflows(synth.template.toJSON());
  });
  afterAll(() => synth.cleanup());

  it.each(WORKFLOW_NAMES)('gives a %s definition that passes the interpreter validation', (name) => {
    const definition = workflows[name].definition as unknown as StateMachineDefinition;

    expect(() => new StateMachine(definition)).not.toThrow();
  });

  it.each(WORKFLOW_NAMES)('maps every FunctionName of the %s workflow to a task of the registry', (name) => {
    const { definition, tasks } = workflows[name];
    const functionNames = allStates(definition)
      .filter(([, state]) => state.Type === 'Task')
      .map(([, state]) => String(state.Parameters?.FunctionName));

    expect(functionNames.length).toBeGreaterThan(0);
    for (const functionName of functionNames) {
      expect(functionName).toMatch(/^arn:aws:lambda:local:000000000000:function:\w+$/);
      const task = tasks[functionName];
      expect(TASK_NAMES, functionName).toContain(task);
      expect(existsSync(join(REPO_ROOT, taskEntry(task!))), task).toBe(true);
    }
  });

  it('tells the two workflows apart by their metadata', () => {
    expect(workflows.create.definition.StartAt).toBe('LaunchPrimary');
    expect(workflows.destroy.definition.StartAt).toBe('TerminateMachines');
  });

  it('resolves the partition and leaves no CloudFormation intrinsic behind', () => {
    const text = JSON.stringify(workflows.create.definition);

    expect(text).toContain('"Resource":"arn:aws:states:::lambda:invoke"');
    expect(text).not.toMatch(/Fn::|"Ref"/);
  });

  it('rejects a template without the workflows', () => {
    expect(() => extractWorkflows({ Resources: {} })).toThrow(/lacks the create workflow/);
  });

  it('rejects a definition that refers to a function without an entry', () => {
    const template = {
      Resources: {
        Fn: { Type: 'AWS::Lambda::Function', Properties: {} },
        Machine: {
          Type: 'AWS::StepFunctions::StateMachine',
          Metadata: { 'bilbo:workflow': 'create' },
          Properties: {
            DefinitionString: { 'Fn::Join': ['', ['{"F":"', { 'Fn::GetAtt': ['Fn', 'Arn'] }, '"}']] },
          },
        },
      },
    };

    expect(() => extractWorkflows(template)).toThrow(/Fn has no bilbo:task metadata/);
  });

  it('names placeholder ARNs after the function logical id', () => {
    expect(placeholderFunctionArn('LaunchRoleAB12')).toBe(
      'arn:aws:lambda:local:000000000000:function:LaunchRoleAB12',
    );
  });
});
