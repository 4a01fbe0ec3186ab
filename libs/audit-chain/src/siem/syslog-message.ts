import type { AuditRecord } from '../chain.js';

/**
 * RFC 5424 syslog messages for forwarded audit events, framed for TCP by octet counting
 * (RFC 6587 §3.4.1). Written here rather than taken from a package: the npm syslog clients bundle
 * their own transport and none writes structured data with the escaping RFC 5424 asks for.
 */

/** Facility 13, "log audit" (RFC 5424 table 1). */
const FACILITY_LOG_AUDIT = 13;
const SEVERITY_WARNING = 4;
const SEVERITY_INFORMATIONAL = 6;

/**
 * The SD-ID of Enclave's structured data. RFC 5424 wants `name@<private enterprise number>`;
 * 32473 is the number IANA reserves for examples and documentation (RFC 5612), used until
 * Enclave has its own.
 */
export const SYSLOG_SD_ID = 'enclave@32473';

/** UTF-8 byte order mark: RFC 5424 §6.4 says a UTF-8 MSG starts with it. */
const BOM = '\uFEFF';

export interface SyslogHeader {
  /** HOSTNAME: 1–255 printable ASCII characters. */
  hostname: string;
  /** APP-NAME: 1–48 printable ASCII characters. */
  appName: string;
  /** PROCID, e.g. the process id. */
  procId: string;
}

/** Printable US-ASCII without spaces (RFC 5424 PRINTUSASCII, %d33-126). */
const PRINTUSASCII = /^[\x21-\x7e]+$/;

/** Why a header field is not valid, or null. */
export function syslogFieldProblem(value: string, maxLength: number): string | null {
  if (!PRINTUSASCII.test(value)) return 'printable ASCII characters without spaces';
  if (value.length > maxLength) return `at most ${maxLength} characters`;
  return null;
}

/** A header field as RFC 5424 allows it: printable ASCII, cut to its length, `-` when empty. */
function headerField(value: string | null | undefined, maxLength: number): string {
  const clean = (value ?? '').replace(/[^\x21-\x7e]/g, '').slice(0, maxLength);
  return clean === '' ? '-' : clean;
}

/** PARAM-VALUE escaping (RFC 5424 §6.3.3): `"`, `\` and `]` get a backslash. */
function paramValue(value: string): string {
  return value.replace(/["\\\]]/g, '\\$&');
}

/** What the MSG part carries: the event as JSON, without a redacted payload. */
export function eventJson(pos: number, chainHash: string, r: AuditRecord): string {
  const redacted = r.redactedAt !== null;
  return JSON.stringify({
    pos,
    chainHash,
    id: r.id,
    occurredAt: r.occurredAt,
    actor: { type: r.actorType, id: r.actorId, label: r.actorLabel },
    action: r.action,
    target:
      r.targetType === null && r.targetId === null ? null : { type: r.targetType, id: r.targetId },
    outcome: r.outcome,
    sourceIp: r.sourceIp,
    userAgent: r.userAgent,
    requestId: r.requestId,
    // Erased or redacted for privacy: the payload is not sent, only the hash the chain keeps.
    payload: redacted ? null : r.payload,
    payloadHash: r.payloadHash,
    redactedAt: r.redactedAt,
  });
}

/**
 * One sealed audit event as an RFC 5424 message:
 * `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [enclave@32473 pos=… action=… …] BOM{json}`.
 * PRI is facility "log audit" with severity informational (outcome success) or warning (failure,
 * denied, partial); TIMESTAMP is when the event occurred (UTC, microseconds); MSGID the action.
 * A MSG longer than `maxBytes` allows loses its payload (`payloadOmitted: "too_large"`); the
 * structured data still carries the payload hash.
 */
export function auditSyslogMessage(
  header: SyslogHeader,
  pos: number,
  chainHash: string,
  r: AuditRecord,
  maxBytes: number,
): string {
  const severity = r.outcome === 'success' ? SEVERITY_INFORMATIONAL : SEVERITY_WARNING;
  const sd: [string, string | null][] = [
    ['pos', String(pos)],
    ['chainHash', chainHash],
    ['eventId', r.id],
    ['action', r.action],
    ['actorType', r.actorType],
    ['actorId', r.actorId],
    ['actor', r.actorLabel],
    ['outcome', r.outcome],
    ['payloadHash', r.payloadHash],
    ['redacted', r.redactedAt === null ? null : 'true'],
  ];
  const params = sd
    .filter(([, v]) => v !== null)
    .map(([k, v]) => ` ${k}="${paramValue(v!)}"`)
    .join('');
  const head =
    `<${FACILITY_LOG_AUDIT * 8 + severity}>1 ${r.occurredAt} ${headerField(header.hostname, 255)} ` +
    `${headerField(header.appName, 48)} ${headerField(header.procId, 128)} ${headerField(r.action, 32)} ` +
    `[${SYSLOG_SD_ID}${params}] ${BOM}`;
  let msg = eventJson(pos, chainHash, r);
  if (Buffer.byteLength(head) + Buffer.byteLength(msg) > maxBytes) {
    const { payload: _payload, ...rest } = JSON.parse(msg) as Record<string, unknown>;
    msg = JSON.stringify({ ...rest, payload: null, payloadOmitted: 'too_large' });
  }
  return head + msg;
}

/** RFC 6587 octet-counting frame: `MSG-LEN SP SYSLOG-MSG`, the length in bytes. */
export function octetCountingFrame(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}
