/**
 * The notebook's git clones: one setup command per repository of the
 * profile's notebook.git, run once at create in the notebook's workdir as
 * the service user (on EC2 the dask user; locally the plane's own user).
 *
 * The script is constant text: the repository, the user name and the email
 * reach it as environment variables, so no profile value is ever read as
 * shell code. The password reaches git only through a credential helper that
 * prints it from an environment variable whose value the remote-command
 * runner reads from the secret store by name, where the script runs: it is
 * in no URL, argument, record, event or log, and not written to any file of
 * the clone (the helper is given with `git -c`, which is not kept).
 */
import { CUSTOM_FORMATS } from '../../../../schemas/formats.ts';
import type { RolePlan } from '../../../../schemas/types.generated.ts';
import type { SecretNames } from '../../ports.ts';
import type { SetupCommand } from '../kind.ts';
import { DASK_SECRETS } from './bootstrap.ts';
import { notebookWorkdirInHome } from './user-data.ts';

/** The variables the clone script reads. */
export const GIT_ENV = {
  repository: 'BILBO_GIT_REPOSITORY',
  user: 'BILBO_GIT_USER',
  email: 'BILBO_GIT_EMAIL',
  password: 'BILBO_GIT_PASSWORD',
} as const;

/**
 * Git's own `!` helper: sh runs it with the action appended (`get`, `store`,
 * `erase`); only `get` answers. `$1` and the variables are expanded by that
 * sh, when git runs it, never by bilbo.
 */
export const CREDENTIAL_HELPER = `!f() { if [ "$1" = get ]; then printf "username=%s\\npassword=%s\\n" "$${GIT_ENV.user}" "$${GIT_ENV.password}"; fi; }; f`;

const CLONE_SCRIPT = [
  'set -euo pipefail',
  // Traces could print what git sends; prompts and askpass programs would wait for no one.
  'unset GIT_TRACE GIT_TRACE_CURL GIT_CURL_VERBOSE GIT_TRACE_PACKET GIT_TRACE2 GIT_TRACE2_EVENT GIT_TRACE2_PERF',
  'export GIT_TERMINAL_PROMPT=0 GIT_ASKPASS=false SSH_ASKPASS=false',
  // The empty value first drops every helper the user's own config names (none may store the password).
  'helper=(-c credential.helper=)',
  `if [ -n "\${${GIT_ENV.password}:-}" ]; then helper+=(-c ${shellWord(`credential.helper=${CREDENTIAL_HELPER}`)}); fi`,
  'identity=()',
  `if [ -n "\${${GIT_ENV.user}:-}" ]; then identity+=(--config "user.name=$${GIT_ENV.user}"); fi`,
  `if [ -n "\${${GIT_ENV.email}:-}" ]; then identity+=(--config "user.email=$${GIT_ENV.email}"); fi`,
  `git "\${helper[@]}" clone --quiet "\${identity[@]}" -- "$${GIT_ENV.repository}"`,
].join('\n');

/** The clone script, for tests that run it. */
export const GIT_CLONE_SCRIPT = CLONE_SCRIPT;

/** One `git clone` per repository of the notebook role, in its workdir; none for the other roles. */
export function daskSetupCommands(clusterId: string, role: RolePlan, secrets: SecretNames): SetupCommand[] {
  const notebook = role.role === 'notebook' ? role.notebook : undefined;
  const repositories = notebook?.gitRepositories ?? [];
  if (!notebook || repositories.length === 0) return [];
  const workdir = notebookWorkdirInHome(notebook.workdir);
  const identity = {
    ...(notebook.gitUser ? { [GIT_ENV.user]: notebook.gitUser } : {}),
    ...(notebook.gitEmail ? { [GIT_ENV.email]: notebook.gitEmail } : {}),
  };
  const secretEnv = notebook.hasGitPassword
    ? { [GIT_ENV.password]: secrets.nameOf(clusterId, DASK_SECRETS.gitPassword) }
    : undefined;
  return repositories.map((repository) => {
    // The schema refuses a user name or password in the URL; git would echo it in its messages.
    if (!CUSTOM_FORMATS['https-repository']?.validate(repository)) {
      throw new Error(`notebook.git.repository: ${repository} is not an https:// URL without credentials`);
    }
    return {
      what: `git clone ${repository}`,
      script: {
        script: CLONE_SCRIPT,
        ...(workdir ? { workdir } : {}),
        env: { ...identity, [GIT_ENV.repository]: repository },
        ...(secretEnv ? { secretEnv } : {}),
      },
    };
  });
}

/** A constant word single-quoted for bash (it holds no single quote). */
function shellWord(text: string): string {
  if (text.includes("'")) throw new Error('a constant shell word with a single quote');
  return `'${text}'`;
}
