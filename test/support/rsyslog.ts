import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What rsyslog itself parsed out of one received RFC 5424 message. */
export interface ReceivedFields {
  pri: string;
  hostname: string;
  appName: string;
  procid: string;
  msgid: string;
  timestamp: string;
  sd: string;
  msg: string;
}

/**
 * A throwaway CA and a server certificate for 127.0.0.1 / localhost signed by it, made with
 * openssl (for a TLS syslog receiver).
 */
export async function testCa(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const [ca, caKey, cert, key, csr] = [
    'ca.pem',
    'ca-key.pem',
    'cert.pem',
    'key.pem',
    'cert.csr',
  ].map((f) => join(dir, f)) as [string, string, string, string, string];
  await run('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Enclave test CA',
    '-keyout', caKey, '-out', ca,
  ]); // prettier-ignore
  await run('openssl', [
    'req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', key, '-out', csr,
  ]); // prettier-ignore
  const ext = join(dir, 'ext.cnf');
  writeFileSync(ext, 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  await run('openssl', [
    'x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-days', '2',
    '-extfile', ext, '-out', cert,
  ]); // prettier-ignore
  return { ca, cert, key };
}

/**
 * The machine's rsyslogd (Debian package `rsyslog`, plus `rsyslog-gnutls` for TLS) in the
 * foreground with a config of its own in `dir`: one imtcp input on `port` (plain, or TLS with the
 * gtls driver) writing each message twice, raw (`raw.log`, the bytes after the octet count) and
 * as the fields rsyslog's RFC 5424 parser found (`fields.log`, JSON lines). Stop and start again
 * on the same port to play a receiver outage; the files are appended to.
 */
export class TestRsyslog {
  private child: ChildProcess | null = null;
  private output = '';
  readonly rawLog: string;
  readonly fieldsLog: string;

  constructor(
    readonly dir: string,
    readonly port: number,
    readonly tls: { ca: string; cert: string; key: string } | null = null,
  ) {
    this.rawLog = join(dir, 'raw.log');
    this.fieldsLog = join(dir, 'fields.log');
    const global = tls
      ? `global(workDirectory="${dir}" maxMessageSize="64k"
          defaultNetstreamDriverCAFile="${tls.ca}"
          defaultNetstreamDriverCertFile="${tls.cert}"
          defaultNetstreamDriverKeyFile="${tls.key}")
        module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")`
      : `global(workDirectory="${dir}" maxMessageSize="64k")
        module(load="imtcp")`;
    writeFileSync(
      join(dir, 'rsyslog.conf'),
      `${global}
input(type="imtcp" address="127.0.0.1" port="${port}")
template(name="raw" type="string" string="%rawmsg%\\n")
template(name="fields" type="list" option.jsonf="on") {
  property(outname="pri" name="pri" format="jsonf")
  property(outname="hostname" name="hostname" format="jsonf")
  property(outname="appName" name="app-name" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="sd" name="structured-data" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
}
action(type="omfile" file="${this.rawLog}" template="raw")
action(type="omfile" file="${this.fieldsLog}" template="fields")
`,
    );
  }

  async start(): Promise<void> {
    const child = spawn(
      'rsyslogd',
      ['-n', '-f', join(this.dir, 'rsyslog.conf'), '-i', join(this.dir, 'rsyslogd.pid')],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (d) => (this.output += d));
    child.stderr!.on('data', (d) => (this.output += d));
    this.child = child;
    // Listening once a connection is accepted.
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`rsyslogd exited: ${this.output}`);
      const ok = await new Promise<boolean>((resolve) => {
        const s = connect({ host: '127.0.0.1', port: this.port }, () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      });
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`rsyslogd is not listening: ${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM: rsyslog writes what it has queued and closes its connections. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGTERM');
    await once(child, 'exit');
  }

  get log(): string {
    return this.output;
  }

  /** The raw messages received so far, in order. */
  raw(): string[] {
    return existsSync(this.rawLog)
      ? readFileSync(this.rawLog, 'utf8').split('\n').filter(Boolean)
      : [];
  }

  fields(): ReceivedFields[] {
    return existsSync(this.fieldsLog)
      ? readFileSync(this.fieldsLog, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as ReceivedFields)
      : [];
  }
}
