import type { KindPort } from '../kind.ts';

/**
 * The ports a Dask cluster's machines listen on, on EC2 (the local
 * provider picks free ones): the one definition, which the user-data, the
 * endpoints and the stack's security group all take.
 */
export const DASK_PORTS = {
  scheduler: { number: 8786, description: 'the Dask scheduler', probed: false },
  dashboard: { number: 8787, description: 'the Dask dashboard', probed: true },
  notebook: { number: 8888, description: 'the Jupyter server of the notebook', probed: true },
} as const satisfies Record<string, KindPort>;

export type DaskPortName = keyof typeof DASK_PORTS;
