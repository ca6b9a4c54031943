import { renderPlanText } from '../../lambdas/domain/plan-text.ts';
import { buildCreateRequest, type ProfileRequestOptions } from '../cluster-request.ts';
import type { Factory } from '../factory.ts';
import { toJson } from '../output.ts';

export interface PlanOptions extends ProfileRequestOptions {
  json: boolean;
}

export async function planRun(options: PlanOptions, f: Factory): Promise<void> {
  const { request } = await buildCreateRequest(options, f.home());
  const api = await f.api();
  const plan = await api.plan(request);
  if (options.json) {
    f.io.stdout.write(toJson(plan));
    return;
  }
  const text = renderPlanText(plan);
  f.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}
