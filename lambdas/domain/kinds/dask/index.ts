/** The Dask kind: a scheduler (the primary), its workers, and optionally a Jupyter notebook. */
import type { ClusterKind } from '../kind.ts';
import { addressOn, portOf } from '../kind.ts';
import { daskActivityChecks, judgeDaskActivity } from './activity.ts';
import { DASK_SECRETS, type DaskBootstrap, daskBootstrap, daskSecrets } from './bootstrap.ts';
import { daskEndpoints, schedulerAddressOf } from './endpoints.ts';
import { daskSetupCommands } from './git.ts';
import { describeDaskReadiness, describeDaskRole, planDaskRoles } from './plan.ts';
import { DASK_PORTS } from './ports.ts';
import { DASK_LOCAL_RUNTIME, daskProcessSpec } from './processes.ts';
import { daskReadinessChecks, daskReadinessSecrets, judgeDaskReadiness } from './readiness.ts';
import { daskPrimaryRole, daskRoleInstance } from './roles.ts';
import { daskRestartRoles, daskUnitOf } from './services.ts';
import { DASK_HOME, DASK_USER, IMAGE_PYTHON, notebookWorkdirInHome, renderUserData } from './user-data.ts';

export type { DaskBootstrap } from './bootstrap.ts';

export const daskKind: ClusterKind<DaskBootstrap> = {
  name: 'dask',
  emptyProfileHint: 'add "dask": {} for a Dask cluster, "notebook": {} for a notebook, or both',
  primaryRole: daskPrimaryRole,
  ports: DASK_PORTS,
  localRuntime: DASK_LOCAL_RUNTIME,
  serviceAccount: { user: DASK_USER, home: DASK_HOME, python: IMAGE_PYTHON },
  runRoles: ['notebook', 'scheduler'],
  plan: planDaskRoles,
  roleInstance: daskRoleInstance,
  describeRole: describeDaskRole,
  describeReadiness: describeDaskReadiness,
  secretsFor: daskSecrets,
  bootstrap: daskBootstrap,
  // Workers and the notebook reach the scheduler inside the cluster's network.
  primaryAddress: (scheduler) =>
    schedulerAddressOf(addressOn(scheduler, 'private'), portOf(scheduler, 'scheduler', DASK_PORTS)),
  endpoints: daskEndpoints,
  // Jupyter logs in whoever opens its URL with `?token=`, and sets a cookie for the rest.
  notebookLogin: {
    secret: DASK_SECRETS.jupyterToken,
    url: (notebookUrl, token) => `${notebookUrl}/?token=${encodeURIComponent(token)}`,
  },
  readinessSecrets: daskReadinessSecrets,
  readinessChecks: daskReadinessChecks,
  judgeReadiness: judgeDaskReadiness,
  activityChecks: daskActivityChecks,
  judgeActivity: judgeDaskActivity,
  commandWorkdir: (role) =>
    role.role === 'notebook' ? notebookWorkdirInHome(role.notebook?.workdir) : undefined,
  setupCommands: daskSetupCommands,
  restartRoles: daskRestartRoles,
  serviceUnits: (role) => [daskUnitOf(role)],
  processSpec: (request) => daskProcessSpec(request.role, request.bootstrap),
  userData: (request, region) =>
    renderUserData({
      clusterId: request.clusterId,
      clusterName: request.clusterName,
      role: request.role,
      bootstrap: request.bootstrap,
      region,
    }),
};
