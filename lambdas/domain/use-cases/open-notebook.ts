import type { NotebookLink } from '../../../schemas/types.generated.ts';
import { type AccessPolicy, assertMayChange, identityOf, type PersonActor } from '../access.ts';
import { ClusterNotReadyError, NoNotebookError, ProvisioningError } from '../errors.ts';
import { kindOf } from '../kinds/index.ts';
import type { ClusterStore, SecretReader } from '../ports.ts';
import { findCluster } from './find-cluster.ts';

export interface OpenNotebookDeps {
  store: ClusterStore;
  secrets: SecretReader;
  access: AccessPolicy;
}

/**
 * The URL that opens a READY cluster's notebook, logged in. The token in it
 * lets its holder run any code on the cluster, so only those who may change
 * the cluster (its owner, an admin) get it.
 */
export async function openNotebook(
  clusterName: string,
  actor: PersonActor,
  deps: OpenNotebookDeps,
): Promise<NotebookLink> {
  const cluster = await findCluster(clusterName, deps.store);
  assertMayChange(cluster, actor, 'open the notebook of', deps.access);
  const planned = cluster.plan.roles.some((role) => role.role === 'notebook');
  if (!planned) throw new NoNotebookError(cluster.name);
  if (cluster.state !== 'READY' || !cluster.notebookUrl) {
    throw new ClusterNotReadyError(
      `cluster ${cluster.name} is ${cluster.state}: its notebook opens once it is READY` +
        (cluster.state === 'CREATING' ? ` (follow it with \`bilbo desc ${cluster.name}\`)` : ''),
    );
  }
  const login = kindOf(cluster.plan.kind).notebookLogin;
  const secret = await deps.secrets.read(deps.secrets.nameOf(cluster.id, login.secret));
  if (secret === undefined) {
    throw new ProvisioningError(
      `the notebook token of cluster ${cluster.name} is gone from the secret store; restart the notebook or create the cluster again`,
    );
  }
  const ownersBrowser =
    identityOf(actor.principal) === identityOf(cluster.owner) ? cluster.plan.webbrowser : undefined;
  return {
    url: login.url(cluster.notebookUrl, secret),
    ...(ownersBrowser === undefined ? {} : { webbrowser: ownersBrowser }),
  };
}
