/**
 * Who may change a cluster: its owner, or an admin of the deployment, or
 * the control plane itself (recovering what a stopped plane left, later the
 * reaper). Every mutating use case asks `assertMayChange`, so the rule has
 * one home.
 */
import type { Cluster } from '../../schemas/types.generated.ts';
import { NotOwnerError } from './errors.ts';

/** Who asks for a change. */
export type Actor = PersonActor | SystemActor;

export interface PersonActor {
  /** The IAM principal API Gateway authenticated (local mode: the local user's). */
  principal: string;
}

/** The control plane acting on its own, for a reason the cluster's events show. */
export interface SystemActor {
  system: string;
  reason: string;
}

export interface AccessPolicy {
  /** Principals that may change any cluster, as configured (role ARNs, user ARNs). */
  admins: readonly string[];
}

const ASSUMED_ROLE = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/;
const ROLE = /^arn:([^:]+):iam::(\d{12}):role\/(?:.+\/)?([^/]+)$/;

/**
 * The identity a principal stands for. A role's sessions are that role
 * (`arn:aws:sts::1:assumed-role/Team/alice` is `arn:aws:iam::1:role/Team`),
 * and a role's path is dropped, since session ARNs do not carry it.
 */
export function identityOf(principal: string): string {
  const session = ASSUMED_ROLE.exec(principal) ?? ROLE.exec(principal);
  if (session) return `arn:${session[1]}:iam::${session[2]}:role/${session[3]}`;
  return principal;
}

export function isAdmin(principal: string, policy: AccessPolicy): boolean {
  const identity = identityOf(principal);
  return policy.admins.some((admin) => identityOf(admin) === identity);
}

/** Throws NotOwnerError unless `actor` may `action` the cluster. */
export function assertMayChange(cluster: Cluster, actor: Actor, action: string, policy: AccessPolicy): void {
  if ('system' in actor) return;
  if (identityOf(actor.principal) === identityOf(cluster.owner)) return;
  if (isAdmin(actor.principal, policy)) return;
  throw new NotOwnerError(cluster.name, cluster.owner, action);
}

/** How a change's event names who asked. */
export function requestedBy(actor: Actor, action: string): string {
  return 'system' in actor
    ? `${actor.reason}: ${action} (${actor.system})`
    : `${action} requested by ${actor.principal}`;
}
