/**
 * A git remote over HTTPS on loopback, for tests: bare repositories served
 * by git's own `git http-backend` (CGI) behind a Node HTTPS server with
 * basic authentication, its certificate made by openssl for 127.0.0.1 and
 * trusted through GIT_SSL_CAINFO. Real git on both ends, no network.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GitHttpsServer {
  /** https://127.0.0.1:PORT */
  origin: string;
  /** The certificate git must trust (GIT_SSL_CAINFO). */
  caFile: string;
  /** Requests refused for a missing or wrong password, and requests let in. */
  counts: { refused: number; allowed: number };
  /** Every Authorization header's password the server was sent. */
  passwordsSeen: string[];
  /** A bare repository `<name>.git` with one commit holding these files. */
  addRepository(name: string, files: Record<string, string>): void;
  stop(): Promise<void>;
}

const GIT_ENV = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'fixture',
  GIT_AUTHOR_EMAIL: 'fixture@example.com',
  GIT_COMMITTER_NAME: 'fixture',
  GIT_COMMITTER_EMAIL: 'fixture@example.com',
};

function git(args: string[], cwd: string): void {
  execFileSync('git', args, { cwd, env: { ...process.env, ...GIT_ENV }, stdio: 'pipe' });
}

export async function startGitHttpsServer(login: {
  user: string;
  password: string;
}): Promise<GitHttpsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'bilbo-git-remote-'));
  const root = join(dir, 'repositories');
  mkdirSync(root);
  const keyFile = join(dir, 'key.pem');
  const caFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      caFile,
    ],
    { stdio: 'pipe' },
  );
  const counts = { refused: 0, allowed: 0 };
  const passwordsSeen: string[] = [];
  const expected = `Basic ${Buffer.from(`${login.user}:${login.password}`).toString('base64')}`;

  const server: Server = createServer(
    { key: readFileSync(keyFile), cert: readFileSync(caFile) },
    (req, res) => {
      const authorization = req.headers.authorization ?? '';
      if (authorization.startsWith('Basic ')) {
        const pair = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
        passwordsSeen.push(pair.slice(pair.indexOf(':') + 1));
      }
      if (authorization !== expected) {
        counts.refused += 1;
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="bilbo test"' }).end();
        return;
      }
      counts.allowed += 1;
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      const cgi = spawn('git', ['http-backend'], {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          GIT_PROJECT_ROOT: root,
          GIT_HTTP_EXPORT_ALL: '1',
          GIT_CONFIG_NOSYSTEM: '1',
          GIT_CONFIG_GLOBAL: '/dev/null',
          REQUEST_METHOD: req.method ?? 'GET',
          PATH_INFO: decodeURIComponent(url.pathname),
          QUERY_STRING: url.search.slice(1),
          CONTENT_TYPE: req.headers['content-type'] ?? '',
          REMOTE_USER: login.user,
          REMOTE_ADDR: '127.0.0.1',
          ...(req.headers['content-length'] ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
          ...(req.headers['content-encoding']
            ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] }
            : {}),
          ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
        },
        stdio: ['pipe', 'pipe', 'ignore'],
      });
      req.pipe(cgi.stdin);
      const chunks: Buffer[] = [];
      cgi.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
      cgi.on('close', () => {
        const output = Buffer.concat(chunks);
        const end = output.indexOf('\r\n\r\n');
        const headerEnd = end >= 0 ? end : output.indexOf('\n\n');
        const gap = end >= 0 ? 4 : 2;
        const headers: Record<string, string> = {};
        let status = 200;
        for (const line of output.subarray(0, Math.max(0, headerEnd)).toString('latin1').split(/\r?\n/)) {
          const colon = line.indexOf(':');
          if (colon < 0) continue;
          const [name, value] = [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
          if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
          else headers[name] = value;
        }
        res.writeHead(status, headers).end(output.subarray(headerEnd < 0 ? output.length : headerEnd + gap));
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `https://127.0.0.1:${port}`,
    caFile,
    counts,
    passwordsSeen,
    addRepository(name, files) {
      const bare = join(root, `${name}.git`);
      const work = join(dir, 'work', name);
      mkdirSync(work, { recursive: true });
      git(['init', '--bare', '--quiet', '--initial-branch=main', bare], dir);
      git(['init', '--quiet', '--initial-branch=main', work], dir);
      for (const [file, content] of Object.entries(files)) writeFileSync(join(work, file), content);
      git(['add', '--all'], work);
      git(['commit', '--quiet', '-m', 'first'], work);
      git(['push', '--quiet', bare, 'main'], work);
    },
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
