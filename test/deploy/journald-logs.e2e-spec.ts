import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { journaldDestination } from '../../libs/observability/src/journald.js';

// Under systemd, stdout is the journal: each JSON log line carries its syslog priority as a
// `<N>` prefix (SyslogLevelPrefix=yes), and a configuration error at start-up is one JSON line at
// priority err, exit code 78 (RestartPreventExitStatus=78 in the units).
const CHAT_MAIN = fileURLToPath(new URL('../../dist/apps/chat/src/main.js', import.meta.url));
const LOGGING = new URL('../../dist/libs/observability/src/logging.js', import.meta.url).href;

/** What the apps' logger (createLogger) writes to stdout for one warning, in a child process. */
async function loggedLine(env: NodeJS.ProcessEnv): Promise<string> {
  const script = `const { createLogger } = await import(${JSON.stringify(LOGGING)}); createLogger('chat', 'info').warn('w');`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH!, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout!.on('data', (d) => (stdout += d));
  await once(child, 'exit');
  return stdout;
}

describe('logs for journald', () => {
  it('prefixes each pino line with the syslog priority of its level', () => {
    const lines: string[] = [];
    const log = pino(
      { level: 'trace' },
      journaldDestination({ write: (l: string) => lines.push(l) > 0 }),
    );
    log.trace('t');
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    log.fatal('f');
    expect(lines.map((l) => l.slice(0, 3))).toEqual(['<7>', '<7>', '<6>', '<4>', '<3>', '<2>']);
    expect(JSON.parse(lines[4]!.slice(3))).toMatchObject({ level: 50, msg: 'e' });
  });

  it("prefixes the apps' log lines only when stdout is the journal", async () => {
    expect(await loggedLine({})).toMatch(/^\{"level":40/);
    expect(await loggedLine({ JOURNAL_STREAM: '8:1234' })).toMatch(/^<4>\{"level":40/);
  });

  it('reports a configuration error at start-up as one JSON line at priority err', async () => {
    const child = spawn(process.execPath, [CHAT_MAIN], {
      env: {
        PATH: process.env.PATH!,
        ENCLAVE_CONFIG: '',
        LOG_LEVEL: 'loud',
        JOURNAL_STREAM: '8:1',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const [code] = await once(child, 'exit');
    expect(code).toBe(78);
    expect(stderr.startsWith('<3>{')).toBe(true);
    expect(JSON.parse(stderr.slice(3))).toMatchObject({
      level: 50,
      code: 'config_invalid',
      key: 'LOG_LEVEL',
    });
  });
});
