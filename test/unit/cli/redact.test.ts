import { describe, expect, it } from 'vitest';
import { REDACTED, redactSecrets, redactText } from '../../../cli/redact.ts';

describe('redactSecrets', () => {
  it('redacts the text of fields named like secrets, and keeps other values and the shape', () => {
    expect(
      redactSecrets({
        jupyterToken: 'abc',
        git: { password: 'pw', user: 'me' },
        hasGitPassword: true,
        ssh_private_key: '~/.ssh/team.pem',
        ports: { notebook: 8888 },
      }),
    ).toEqual({
      jupyterToken: REDACTED,
      git: { password: REDACTED, user: 'me' },
      hasGitPassword: true,
      ssh_private_key: REDACTED,
      ports: { notebook: 8888 },
    });
  });

  it('redacts secrets inside the text of any field, arrays included', () => {
    expect(redactSecrets({ init_cmd: ['export GITHUB_TOKEN=ghp_x; make'] })).toEqual({
      init_cmd: [`export GITHUB_TOKEN=${REDACTED}; make`],
    });
  });
});

describe('redactText', () => {
  it.each([
    ['http://10.0.0.9:8888/lab?token=abc&x=1', `http://10.0.0.9:8888/lab?token=${REDACTED}&x=1`],
    ['https://me:pw@example.com/r.git', `https://me:${REDACTED}@example.com/r.git`],
    ['tool --password hunter2 --verbose', `tool --password ${REDACTED} --verbose`],
    ["PGPASSWORD='a b' psql", `PGPASSWORD='${REDACTED}' psql`],
    ['api_key:k3y', `api_key:${REDACTED}`],
    ['-----BEGIN RSA PRIVATE KEY----- MIIE', REDACTED],
  ])('redacts %j', (text, redacted) => {
    expect(redactText(text)).toBe(redacted);
  });

  it.each([
    'the git password stays in SSM',
    'profile.notebook.git.password: must be at most 1024 characters',
    'started notebook-token.sh',
    'https://example.com/r.git',
  ])('leaves prose and plain URLs as they are: %j', (text) => {
    expect(redactText(text)).toBe(text);
  });
});
