import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const RENDER = fileURLToPath(new URL('../../deploy/nginx/render.mjs', import.meta.url));

/** A self-signed certificate for 127.0.0.1 / localhost (what install.sh makes without one). */
export async function selfSignedCert(dir: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', key, '-out', cert,
  ]); // prettier-ignore
  return { cert, key };
}

/**
 * The shipped site (deploy/nginx, rendered by render.mjs with `renderArgs`) inside a minimal
 * nginx.conf of its own, in `dir`, run by the machine's nginx in the foreground.
 */
export class TestNginx {
  private child: ChildProcess | null = null;
  readonly conf: string;

  constructor(readonly dir: string) {
    this.conf = join(dir, 'nginx.conf');
  }

  async render(renderArgs: string[]): Promise<void> {
    // Workers run as nobody: they must reach the temp paths under dir.
    chmodSync(this.dir, 0o755);
    mkdirSync(join(this.dir, 'site'), { recursive: true });
    await run(process.execPath, [RENDER, '--out', join(this.dir, 'site'), ...renderArgs]);
    writeFileSync(
      this.conf,
      `daemon off;
pid ${this.dir}/nginx.pid;
error_log ${this.dir}/error.log warn;
worker_processes 1;
events { worker_connections 1024; }
http {
  access_log ${this.dir}/access.log;
  client_body_temp_path ${this.dir}/body;
  proxy_temp_path ${this.dir}/proxy;
  fastcgi_temp_path ${this.dir}/fastcgi;
  uwsgi_temp_path ${this.dir}/uwsgi;
  scgi_temp_path ${this.dir}/scgi;
  include ${this.dir}/site/enclave.conf;
}
`,
    );
  }

  /** `nginx -t` on the rendered configuration; throws with nginx's words when it fails. */
  async check(): Promise<string> {
    const { stderr } = await run('nginx', ['-t', '-c', this.conf, '-p', this.dir]);
    return stderr;
  }

  async start(port: number): Promise<void> {
    this.child = spawn('nginx', ['-c', this.conf, '-p', this.dir], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`nginx exited: ${this.errors()}`);
      try {
        await run('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`]);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error('nginx did not listen');
  }

  errors(): string {
    try {
      return readFileSync(join(this.dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGQUIT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await once(child, 'exit');
    clearTimeout(timer);
  }
}
