/**
 * systemd units for the roles. A unit holds only text bilbo writes itself:
 * systemd's quoting (specifiers with `%`, C escapes, `$` expansion in Exec
 * lines, its own EnvironmentFile grammar) is not the shell's, so profile
 * values reach the services through launcher scripts instead
 * (see user-data.ts), never through a unit.
 */

export interface UnitSpec {
  description: string;
  /** The system user (and group) the service runs as. */
  user: string;
  /** The program the service runs, with no arguments. */
  execStart: string;
  /** Run as root before each start (systemd's `+` prefix), e.g. to fetch a secret. */
  execStartPre?: string;
  /** Loaded by systemd as root, so the file may be root-only; optional (`-`) because execStartPre writes it. */
  environmentFile?: string;
}

/** Unit values are bilbo's own paths and words: anything else is a programming error. */
const UNIT_SAFE = /^[A-Za-z0-9 ._/:@+-]*$/;

export function renderUnit(spec: UnitSpec): string {
  for (const value of Object.values(spec)) {
    if (!UNIT_SAFE.test(value)) throw new Error(`unsafe text for a systemd unit: ${JSON.stringify(value)}`);
  }
  return [
    '[Unit]',
    `Description=${spec.description}`,
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `User=${spec.user}`,
    `Group=${spec.user}`,
    ...(spec.environmentFile ? [`EnvironmentFile=-${spec.environmentFile}`] : []),
    ...(spec.execStartPre ? [`ExecStartPre=+${spec.execStartPre}`] : []),
    `ExecStart=${spec.execStart}`,
    'Restart=on-failure',
    'RestartSec=5',
    'LimitNOFILE=65536',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
