/**
 * One local control plane per BILBO_HOME. Two planes on one home would
 * share its cluster records and instance registry, and the one that stops
 * second would end the first one's clusters; so a plane claims the home
 * first, and a second one refuses, naming the running one.
 *
 * The claim is a file made with link(2), which fails when the file exists,
 * holding the claimant's pid and start time; a claim whose process is gone
 * (a crashed plane) is taken over.
 */
import { link, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readJsonFile, writeJsonAtomically } from '../../lambdas/adapters/local/process-lease.ts';
import { isProcessAlive, readProcStartTicks } from '../../lambdas/adapters/local/processes.ts';
import { LocalPlaneRunningError } from '../errors.ts';

export interface PlaneClaimFile {
  pid: number;
  startTicks?: number;
  startedAt: string;
  /** Set once the plane listens. */
  endpoint?: string;
}

export interface PlaneClaim {
  /** Writes the endpoint into the claim, for the message a second plane prints. */
  announce(endpoint: string): Promise<void>;
  /** Gives the home up, unless another plane has (wrongly) taken it over since. */
  release(): Promise<void>;
}

const ATTEMPTS = 5;

export function claimFileOf(home: string): string {
  return join(home, 'local', 'plane.json');
}

export async function claimHome(home: string): Promise<PlaneClaim> {
  const file = claimFileOf(home);
  const mine: PlaneClaimFile = {
    pid: process.pid,
    ...optionalTicks(readProcStartTicks(process.pid)),
    startedAt: new Date().toISOString(),
  };
  const draft = `${file}.${process.pid}.claim`;
  await writeJsonAtomically(draft, mine);
  try {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        await link(draft, file);
        return claimOf(file, mine);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = await readJsonFile<PlaneClaimFile>(file);
      if (holder && holds(holder)) throw new LocalPlaneRunningError(home, holder.pid, holder.endpoint);
      await takeOverStale(file, holder);
    }
    throw new Error(`could not claim ${file}: other planes keep claiming it at the same time`);
  } finally {
    await rm(draft, { force: true });
  }
}

function claimOf(file: string, mine: PlaneClaimFile): PlaneClaim {
  const stillMine = async () => {
    const current = await readJsonFile<PlaneClaimFile>(file);
    return current?.pid === mine.pid && current.startTicks === mine.startTicks;
  };
  return {
    announce: async (endpoint) => {
      if (await stillMine()) await writeJsonAtomically(file, { ...mine, endpoint });
    },
    release: async () => {
      if (await stillMine()) await rm(file, { force: true });
    },
  };
}

/** The claim's process still runs (the very one: same pid and start time), and it is not this one. */
function holds(claim: PlaneClaimFile): boolean {
  if (claim.pid === process.pid && claim.startTicks === readProcStartTicks(process.pid)) return false;
  return isProcessAlive(claim.pid, claim.startTicks);
}

/**
 * Moves a dead plane's claim aside. Another plane starting at the same time
 * may have replaced it in between: then what was moved is a live claim,
 * and it goes back.
 */
async function takeOverStale(file: string, stale: PlaneClaimFile | undefined): Promise<void> {
  const aside = `${file}.${process.pid}.stale`;
  try {
    await rename(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = await readJsonFile<PlaneClaimFile>(aside);
  if (moved && stale && (moved.pid !== stale.pid || moved.startTicks !== stale.startTicks) && holds(moved)) {
    await link(aside, file).catch(() => {});
  }
  await rm(aside, { force: true });
}

function optionalTicks(startTicks: number | undefined): { startTicks?: number } {
  return startTicks === undefined ? {} : { startTicks };
}
