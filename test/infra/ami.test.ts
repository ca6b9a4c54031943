import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const AMI_DIR = join(import.meta.dirname, '..', '..', 'infra', 'ami');
const TEMPLATE = join(AMI_DIR, 'bilbo-image.pkr.json');
const SETUP = join(AMI_DIR, 'setup.sh');

const INSTALL_HINT: Record<string, string> = {
  packer: 'install packer (apt-get install packer)',
  shellcheck: 'install shellcheck (apt-get install shellcheck)',
};

interface ToolRun {
  missing: boolean;
  status: number | null;
  output: string;
}

let home: string;
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'bilbo-ami-'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

/**
 * Runs a tool with no AWS credentials anywhere (no AWS_* variables, an empty
 * HOME without ~/.aws) and Packer's version check off: what passes here needs
 * neither an account nor the network.
 */
function runTool(tool: string, args: string[]): ToolRun {
  const result = spawnSync(tool, args, {
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env.PATH, HOME: home, CHECKPOINT_DISABLE: '1', PACKER_NO_COLOR: '1' },
  });
  const missing = (result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
  return { missing, status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

function packer(...args: string[]): ToolRun {
  const run = runTool('packer', args);
  expect(run.missing, INSTALL_HINT.packer).toBe(false);
  return run;
}

/** The local variables `packer inspect` prints, e.g. `local.ami_name: "…"`. */
function inspectLocals(...vars: string[]): Record<string, string> {
  const run = packer('inspect', ...vars.flatMap((v) => ['-var', v]), TEMPLATE);
  expect(run.status, run.output).toBe(0);
  return Object.fromEntries(
    [...run.output.matchAll(/^local\.(\w+): "(.*)"$/gm)].map(([, name, value]) => [name!, value!]),
  );
}

describe('the machine image template (infra/ami/bilbo-image.pkr.json)', () => {
  const template = JSON.parse(readFileSync(TEMPLATE, 'utf8'));
  const source = template.source['amazon-ebs']['bilbo-dask'];

  it('passes packer validate without AWS credentials or network', () => {
    const run = packer('validate', TEMPLATE);

    expect(run.status, run.output).toBe(0);
  });

  it.each([
    ['arm64', ['arch=arm64']],
    ['an explicit base image', ['source_ami=ami-0123456789abcdef0']],
    ['a named image in a given subnet', ['ami_name=bilbo-dask-test', 'subnet_id=subnet-0123456789abcdef0']],
  ])('passes packer validate for %s', (_, vars) => {
    const run = packer('validate', ...vars.flatMap((v) => ['-var', v]), TEMPLATE);

    expect(run.status, run.output).toBe(0);
  });

  it('rejects an architecture other than amd64 or arm64', () => {
    const run = packer('validate', '-var', 'arch=x86_64', TEMPLATE);

    expect(run.status).not.toBe(0);
    expect(run.output).toContain('The arch must be amd64 or arm64.');
  });

  it('finds setup.sh beside the template, whatever the working folder', () => {
    const lonely = mkdtempSync(join(home, 'template-'));
    copyFileSync(TEMPLATE, join(lonely, 'bilbo-image.pkr.json'));

    const run = packer('validate', join(lonely, 'bilbo-image.pkr.json'));

    expect(run.status).not.toBe(0);
    expect(run.output).toContain(`${lonely}/setup.sh`);
  });

  it('names the image after the architecture and the build time, unless ami_name is given', () => {
    expect(inspectLocals().ami_name).toMatch(/^bilbo-dask-ubuntu22\.04-amd64-\d{8}-\d{6}$/);
    expect(inspectLocals('arch=arm64').ami_name).toMatch(/^bilbo-dask-ubuntu22\.04-arm64-\d{8}-\d{6}$/);
    expect(inspectLocals('ami_name=team-dask').ami_name).toBe('team-dask');
  });

  it('builds on an instance type of the chosen architecture', () => {
    expect(inspectLocals().instance_type).toBe('t3.medium');
    expect(inspectLocals('arch=arm64').instance_type).toBe('t4g.medium');
    expect(inspectLocals('arch=arm64', 'instance_type=c7g.large').instance_type).toBe('c7g.large');
  });

  it('declares the region, base image, build instance and image name variables', () => {
    expect(Object.keys(template.variable)).toEqual(
      expect.arrayContaining(['region', 'arch', 'source_ami', 'instance_type', 'ami_name']),
    );
  });

  it("starts from Canonical's newest Ubuntu 22.04 image unless source_ami is given", () => {
    const filter = source.dynamic.source_ami_filter;

    expect(source.source_ami).toBe(`\${var.source_ami}`);
    expect(filter.for_each).toBe(`\${var.source_ami == "" ? [var.arch] : []}`);
    expect(filter.content.filters.name).toBe(
      `ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-\${source_ami_filter.value}-server-*`,
    );
    expect(filter.content.owners).toEqual(['099720109477']);
    expect(filter.content.most_recent).toBe(true);
  });

  it('runs setup.sh from its own folder, as root, as the only provisioner', () => {
    expect(Object.keys(template.build.provisioner)).toEqual(['shell']);
    const shell = template.build.provisioner.shell;

    expect(shell.script).toBe(`\${path.root}/setup.sh`);
    expect(shell.execute_command).toMatch(/^chmod \+x \{\{ \.Path \}\}; sudo -E env \{\{ \.Vars \}\} bash /);
    expect(template.build.sources).toEqual(['source.amazon-ebs.bilbo-dask']);
  });
});

describe('the image setup script (infra/ami/setup.sh)', () => {
  const script = readFileSync(SETUP, 'utf8');
  const lines = script.split('\n');
  const lineOf = (pattern: RegExp): number => lines.findIndex((line) => pattern.test(line));
  const lastLineOf = (pattern: RegExp): number => lines.findLastIndex((line) => pattern.test(line));
  const requirements = script.match(/<<'REQUIREMENTS'\n([\s\S]*?)\nREQUIREMENTS\n/)?.[1]?.split('\n') ?? [];

  it('passes shellcheck', () => {
    const run = runTool('shellcheck', ['-s', 'bash', SETUP]);

    expect(run.missing, INSTALL_HINT.shellcheck).toBe(false);
    expect(run.status, run.output).toBe(0);
  });

  it('stops at the first failing command, unset variable or failing pipe', () => {
    expect(lines[0]).toBe('#!/usr/bin/env bash');
    expect(lines.find((line) => line !== '' && !line.startsWith('#'))).toBe('set -euo pipefail');
  });

  it('installs python3-venv and git from apt', () => {
    expect(script).toMatch(/^apt_get install -y --no-install-recommends .*\bpython3-venv\b.*\bgit\b/m);
  });

  it('creates the system user dask with its home in /home/dask', () => {
    expect(script).toMatch(/^readonly DASK_USER=dask$/m);
    expect(script).toMatch(/^readonly DASK_HOME=\/home\/dask$/m);
    expect(script).toMatch(
      /useradd --system --create-home --home-dir "\$\{DASK_HOME\}" --shell \/bin\/bash "\$\{DASK_USER\}"/,
    );
  });

  it('creates the venv at /opt/bilbo/venv and installs the pinned requirements into it', () => {
    expect(script).toMatch(/^readonly BILBO_DIR=\/opt\/bilbo$/m);
    expect(script).toMatch(/^readonly VENV="\$\{BILBO_DIR\}\/venv"$/m);
    expect(lineOf(/^python3 -m venv "\$\{VENV\}"$/)).toBeGreaterThan(-1);
    expect(
      lineOf(/"\$\{VENV\}\/bin\/python" -m pip install .*--requirement "\$\{BILBO_DIR\}\/requirements.txt"/),
    ).toBeGreaterThan(lineOf(/^python3 -m venv/));
  });

  it.each([
    'dask',
    'distributed',
    'jupyterlab',
    'dask-labextension',
    'papermill',
    'pyarrow',
    's3fs',
    'prometheus-client',
    'boto3',
  ])('pins %s to an exact version', (name) => {
    const pinned = new RegExp(`^${name}(\\[[\\w,]+\\])?==\\d+(\\.\\d+)+$`);

    expect(requirements.filter((line) => pinned.test(line))).toHaveLength(1);
  });

  it('pins every requirement, and asks for Dask with its distributed scheduler', () => {
    expect(requirements.length).toBeGreaterThan(0);
    for (const line of requirements) expect(line).toMatch(/^[\w-]+(\[[\w,]+\])?==\d+(\.\d+)+$/);
    expect(requirements.find((line) => line.startsWith('dask['))).toMatch(/^dask\[[\w,]*\bdistributed\b/);
  });

  it('fails the build when an entry point the bootstrap relies on is missing', () => {
    const checks = lines.slice(lineOf(/^log "checking what the bootstrap relies on"$/));

    expect(checks).toContain(`"\${VENV}/bin/dask" --version`);
    expect(checks).toContain(`"\${VENV}/bin/jupyter" lab --version`);
    expect(checks.some((line) => /^"\$\{VENV\}\/bin\/python" -c 'import boto3\b/.test(line))).toBe(true);
    expect(checks).toContain('git --version');
  });

  it('keeps unattended upgrades off while it installs, and turns them back on after', () => {
    const masked = lineOf(/^systemctl mask "\$\{APT_UNITS\[@\]\}"$/);
    const unmasked = lineOf(/^systemctl unmask "\$\{APT_UNITS\[@\]\}"$/);

    expect(script).toMatch(
      /^readonly APT_UNITS=\(apt-daily\.timer apt-daily-upgrade\.timer unattended-upgrades\.service\)$/m,
    );
    expect(masked).toBeGreaterThan(-1);
    expect(masked).toBeLessThan(lineOf(/^apt_get update$/));
    expect(unmasked).toBeGreaterThan(lastLineOf(/-m pip install/));
  });

  it('cleans the apt and pip caches after the last install', () => {
    const lastInstall = Math.max(lastLineOf(/^apt_get install/), lastLineOf(/-m pip install/));

    expect(lineOf(/^apt_get clean$/)).toBeGreaterThan(lastInstall);
    expect(lineOf(/^rm -rf \/var\/lib\/apt\/lists\/\* \/root\/\.cache\/pip$/)).toBeGreaterThan(lastInstall);
  });
});
