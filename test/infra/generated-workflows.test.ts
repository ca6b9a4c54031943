import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SYNTHESIZED_WORKFLOWS } from '../../cli/local/workflow-runner.ts';
import { WORKFLOW_NAMES } from '../../lambdas/domain/workflows.ts';
import { GENERATED_WORKFLOWS_PATH, renderWorkflows } from '../../scripts/generate-workflows.ts';

describe('the generated workflow definitions local mode runs', () => {
  it('are exactly what a synth of the app produces now', () => {
    expect(readFileSync(GENERATED_WORKFLOWS_PATH, 'utf8')).toBe(renderWorkflows());
  });

  it('hold every registered workflow, and only those', () => {
    expect(Object.keys(SYNTHESIZED_WORKFLOWS).sort()).toEqual([...WORKFLOW_NAMES].sort());
  });
});
