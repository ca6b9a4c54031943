/** What every function needs from the runtime itself: time, waiting, fresh ids and secrets. */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../domain/ports.ts';

export const systemClock: Clock = { now: () => new Date() };

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const newClusterId = (): string => `c-${randomBytes(8).toString('hex')}`;

/** 24 random bytes, URL-safe: a notebook's token. */
export const newSecret = (): string => randomBytes(24).toString('base64url');

/** Sortable by creation time: 12 hex digits of milliseconds, then 4 random ones. */
export const newCommandId = (): string =>
  `cmd-${Date.now().toString(16).padStart(12, '0')}${randomBytes(2).toString('hex')}`;

/** Sortable by start time, like a command's id: `sweep-` and 16 hex digits. */
export const newSweepId = (): string =>
  `sweep-${Date.now().toString(16).padStart(12, '0')}${randomBytes(2).toString('hex')}`;
