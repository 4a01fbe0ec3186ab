import type { Writable } from 'node:stream';

/** pino's numeric level → syslog priority (trace/debug 7, info 6, warn 4, error 3, fatal 2). */
const PRIORITY: Record<number, number> = { 10: 7, 20: 7, 30: 6, 40: 4, 50: 3, 60: 2 };

/** The syslog priority of one pino JSON line (info when it has no level). */
export function priorityOf(line: string): number {
  const level = /"level":(\d+)/.exec(line.slice(0, 64))?.[1];
  return PRIORITY[Number(level)] ?? 6;
}

/**
 * A pino destination that prefixes each JSON line with `<N>`, its syslog priority: journald reads
 * that prefix (SyslogLevelPrefix=yes, the default) and stores the line at that priority instead
 * of "info" for everything. Used only when stdout is the journal (systemd sets JOURNAL_STREAM).
 */
export function journaldDestination(out: Pick<Writable, 'write'> = process.stdout): {
  write(line: string): void;
} {
  return { write: (line) => void out.write(`<${priorityOf(line)}>${line}`) };
}
