import { sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson, jsonString, payloadTextHash, sha256Hex } from '@enclave/audit';

/**
 * The audit chain as pure functions, shared by the sealer, the database verifier and the offline
 * export verifier (docs/audit.md has the definitions in words):
 *
 *   payloadHash = SHA-256(salt ‖ canonicalJson(payload))
 *   leafHash    = SHA-256(canonicalJson({ v, pos, id, occurredAt, actor…, action, target…,
 *                                         outcome, sourceIp, userAgent, requestId, payloadHash }))
 *   hash[pos]   = SHA-256(hash[pos-1] ‖ leafHash[pos]),  hash[0] = 32 zero bytes
 *
 * The chain commits to the payload's salted hash, not the payload, so a payload can be erased
 * (and its salt with it, so the hash no longer confirms a guess) while the chain still verifies.
 */

export const GENESIS_HASH = '0'.repeat(64);
const LEAF_VERSION = 1;
const CHECKPOINT_TYPE = 'enclave.audit.checkpoint';

/** One audit event as the chain sees it; every string field exactly as stored. */
export interface AuditRecord {
  id: string;
  /** ISO-8601 in UTC with microseconds, e.g. 2025-11-28T10:00:00.123456Z. */
  occurredAt: string;
  actorType: string;
  actorId: string | null;
  actorLabel: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  sourceIp: string | null;
  userAgent: string | null;
  requestId: string | null;
  payload: unknown;
  /** Hex; null once the payload was erased. */
  payloadSalt: string | null;
  /** Hex SHA-256 of salt ‖ canonical payload. */
  payloadHash: string;
  redactedAt: string | null;
}

export interface Checkpoint {
  pos: number;
  hash: string;
  signedAt: string;
  keyId: string;
  /** Base64 Ed25519 signature of checkpointMessage(). */
  signature: string;
}

/** What an erased payload is replaced by; a redacted event with anything else was tampered with. */
export const REDACTED_PAYLOAD = { redacted: true } as const;
/** REDACTED_PAYLOAD's canonical text: what an erased event's payload column holds. */
export const REDACTED_CANONICAL = canonicalJson(REDACTED_PAYLOAD);

/** Whether the stored payload is what the chain committed to (or, once erased, the marker). */
export function payloadIntact(
  r: Pick<AuditRecord, 'redactedAt' | 'payloadSalt' | 'payloadHash'>,
  canonicalPayload: string,
): boolean {
  if (r.redactedAt) return canonicalPayload === REDACTED_CANONICAL;
  return !!r.payloadSalt && payloadTextHash(r.payloadSalt, canonicalPayload) === r.payloadHash;
}

/**
 * payloadIntact() of a payload read as JSON text (an export line). The exporter writes the
 * canonical text, so the text as it stands is tried first; only when that does not match is it
 * parsed and canonicalised, so a payload still verifies exactly when its parsed value does.
 */
export function payloadTextIntact(
  r: Pick<AuditRecord, 'redactedAt' | 'payloadSalt' | 'payloadHash'>,
  text: string,
): boolean {
  return payloadIntact(r, text) || payloadIntact(r, canonicalJson(JSON.parse(text)));
}

/** The leaf's fields as JSON texts: for each, what jsonString() gives for the stored value. */
export interface LeafTokens {
  action: string;
  actorId: string;
  actorLabel: string;
  actorType: string;
  id: string;
  occurredAt: string;
  outcome: string;
  payloadHash: string;
  requestId: string;
  sourceIp: string;
  targetId: string;
  targetType: string;
  userAgent: string;
}

/**
 * SHA-256 of canonicalJson(leaf). The leaf is flat and its keys are fixed, so the text is written
 * directly in sorted key order (hot path; chain.spec.ts checks it equals the canonical form).
 */
export function leafHash(pos: number, r: AuditRecord): string {
  return leafHashOfTokens(pos, leafTokens(r));
}

/** The LeafTokens of a record: each field through jsonString(). */
export function leafTokens(r: AuditRecord): LeafTokens {
  return {
    action: jsonString(r.action),
    actorId: jsonString(r.actorId),
    actorLabel: jsonString(r.actorLabel),
    actorType: jsonString(r.actorType),
    id: jsonString(r.id),
    occurredAt: jsonString(r.occurredAt),
    outcome: jsonString(r.outcome),
    payloadHash: jsonString(r.payloadHash),
    requestId: jsonString(r.requestId),
    sourceIp: jsonString(r.sourceIp),
    targetId: jsonString(r.targetId),
    targetType: jsonString(r.targetType),
    userAgent: jsonString(r.userAgent),
  };
}

/**
 * leafHash() of fields that are JSON texts already (an export line's tokens, or values Postgres
 * wrote as JSON): the exporter and the offline verifier skip re-encoding each field.
 */
export function leafHashOfTokens(pos: number, t: LeafTokens): string {
  return sha256Hex(
    `{"action":${t.action},"actorId":${t.actorId},"actorLabel":${t.actorLabel},"actorType":${t.actorType},` +
      `"id":${t.id},"occurredAt":${t.occurredAt},"outcome":${t.outcome},"payloadHash":${t.payloadHash},` +
      `"pos":${pos},"requestId":${t.requestId},"sourceIp":${t.sourceIp},"targetId":${t.targetId},` +
      `"targetType":${t.targetType},"userAgent":${t.userAgent},"v":${LEAF_VERSION}}`,
  );
}

export function linkHash(prevHex: string, leafHex: string): string {
  return sha256Hex(Buffer.from(prevHex + leafHex, 'hex'));
}

/** A short, stable name for a public key: the first 16 hex digits of SHA-256 of its SPKI DER. */
export function keyIdOf(publicKey: KeyObject): string {
  return sha256Hex(publicKey.export({ type: 'spki', format: 'der' })).slice(0, 16);
}

export function signText(privateKey: KeyObject, text: string): string {
  return sign(null, Buffer.from(text), privateKey).toString('base64');
}

export function signatureValid(publicKey: KeyObject, text: string, signature: string): boolean {
  try {
    return verify(null, Buffer.from(text), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

export function checkpointMessage(cp: Omit<Checkpoint, 'signature'>): string {
  return canonicalJson({
    type: CHECKPOINT_TYPE,
    v: 1,
    pos: cp.pos,
    hash: cp.hash,
    signedAt: cp.signedAt,
    keyId: cp.keyId,
  });
}

export function signCheckpoint(
  key: { privateKey: KeyObject; keyId: string },
  pos: number,
  hash: string,
  signedAt: Date = new Date(),
): Checkpoint {
  const unsigned = { pos, hash, signedAt: signedAt.toISOString(), keyId: key.keyId };
  return { ...unsigned, signature: signText(key.privateKey, checkpointMessage(unsigned)) };
}

export function checkpointValid(cp: Checkpoint, publicKey: KeyObject): boolean {
  return (
    cp.keyId === keyIdOf(publicKey) &&
    signatureValid(publicKey, checkpointMessage(cp), cp.signature)
  );
}

/** Why a signature's key is not trusted (problem kinds of a verdict). */
export type KeyRefusal = 'key_unknown' | 'key_outside_validity';

export type KeyLookup =
  { ok: true; publicKey: KeyObject } | { ok: false; kind: KeyRefusal; message: string };

/** The keys a verifier trusts, by key id and signed time (a Keyring, keyring.ts). */
export interface SignerKeys {
  lookup(keyId: string, signedAt: string): KeyLookup;
}

export type ChainProblemKind =
  | KeyRefusal
  | 'position_missing'
  | 'position_out_of_order'
  | 'event_missing'
  | 'event_modified'
  | 'event_moved'
  | 'payload_modified'
  | 'link_broken'
  | 'unchained_event'
  | 'checkpoint_forged'
  | 'checkpoint_mismatch'
  | 'tail_truncated'
  | 'anchor_mismatch'
  | 'file_modified'
  | 'outside_filter';

export interface ChainProblem {
  /** The first position known to be bad (null: not tied to a position, e.g. an unchained event). */
  pos: number | null;
  kind: ChainProblemKind;
  message: string;
}

/** One position of the chain as a verifier reads it. */
export interface ChainStep {
  pos: number;
  /** The stored leaf hash; null when the source keeps only the event (an export's data file). */
  leafHash: string | null;
  /** The stored chain hash at this position; null when the source has none. */
  hash: string | null;
  /** The event, or null when absent (deleted, or not part of an export). */
  record: AuditRecord | null;
  /** The event is absent on purpose (retention removed it, or it is outside an export's filter). */
  absentByDesign?: boolean;
  /** Retention removed the event (its link is marked pruned); counted in the verdict. */
  pruned?: boolean;
}

/** What was checked of an event where it was read (a worker): its payload, its leaf, its link. */
export interface EventCheck {
  id: string;
  redacted: boolean;
  /** The payload matches its sealed hash (or, once erased, is the redaction marker). */
  payloadIntact: boolean;
  /** leafHash(pos, event). */
  leafHash: string;
  /** linkHash(prev, leafHash), made alongside when the previous hash was known there. */
  link: { prev: string; hash: string } | null;
}

/** A position whose event was checked where it was read: the walker links it and counts it. */
export interface CheckedStep {
  pos: number;
  /** The chain hash stated with the event (an export line's chainHash); null when it has none. */
  hash: string | null;
  /** The leaf hash stored with the link (the database); absent for an export line. */
  storedLeaf?: string;
  event: EventCheck;
}

export interface ChainVerdict {
  ok: boolean;
  /** Positions walked (from fromPos + 1 to lastPos). */
  positions: number;
  events: number;
  lastPos: number;
  lastHash: string;
  checkpoints: number;
  /** Events whose payload was erased (privacy): they verify by their sealed payload hash. */
  redacted: number;
  /** Positions whose event retention removed: the link is kept, the event is gone by design. */
  pruned: number;
  /** The first and last pruned position (null when none). */
  prunedRange: { from: number; to: number } | null;
  problems: ChainProblem[];
}

const MAX_PROBLEMS = 100;

/**
 * Walks the chain position by position and collects what is wrong. After a bad position it goes
 * on from the stored hash, so independent problems further on are named too, and a consistent
 * forgery (every later link recomputed) is still caught by the signed checkpoints.
 */
export class ChainWalker {
  private prevHash: string;
  private expected: number;
  private readonly problems: ChainProblem[] = [];
  private readonly checkpointsAt = new Map<number, Checkpoint[]>();
  private lastMatchedCheckpoint: number;
  private events = 0;
  private redacted = 0;
  private pruned = 0;
  private prunedRange: { from: number; to: number } | null = null;
  private positions = 0;
  private lastPos: number;
  private lastWalkProblem = 0;

  constructor(
    private readonly opts: {
      /** The walk starts after this position (0: the genesis). */
      fromPos: number;
      fromHash: string;
      checkpoints: Checkpoint[];
      keys: SignerKeys;
    },
  ) {
    this.prevHash = opts.fromHash;
    this.expected = opts.fromPos + 1;
    this.lastPos = opts.fromPos;
    this.lastMatchedCheckpoint = opts.fromPos;
    for (const cp of opts.checkpoints) {
      const key = opts.keys.lookup(cp.keyId, cp.signedAt);
      if (!key.ok) {
        this.report(
          cp.pos,
          key.kind,
          `the checkpoint for position ${cp.pos} signed at ${cp.signedAt} is not trusted: ${key.message}`,
        );
        continue;
      }
      if (!checkpointValid(cp, key.publicKey)) {
        this.report(
          cp.pos,
          'checkpoint_forged',
          `the checkpoint for position ${cp.pos} signed at ${cp.signedAt} has no valid signature by key ${cp.keyId}`,
        );
        continue;
      }
      if (cp.pos <= opts.fromPos) continue;
      const list = this.checkpointsAt.get(cp.pos) ?? [];
      list.push(cp);
      this.checkpointsAt.set(cp.pos, list);
    }
  }

  visit(step: ChainStep): void {
    const r = step.record;
    let check: EventCheck | null = null;
    if (r) {
      check = {
        id: r.id,
        redacted: !!r.redactedAt,
        payloadIntact: payloadIntact(r, canonicalJson(r.payload)),
        leafHash: leafHash(step.pos, r),
        link: null,
      };
    }
    this.advance(step, check, r);
  }

  /** visit() of an event already checked where it was read (same verdicts, no hashing here). */
  visitChecked(step: CheckedStep): void {
    this.advance(
      { pos: step.pos, leafHash: step.storedLeaf ?? null, hash: step.hash },
      step.event,
      null,
    );
  }

  private advance(
    step: Omit<ChainStep, 'record'>,
    event: EventCheck | null,
    record: AuditRecord | null,
  ): void {
    const { pos } = step;
    const problemsBefore = this.problems.length;
    if (pos < this.expected) {
      this.report(
        pos,
        'position_out_of_order',
        `position ${pos} appears again after position ${this.expected - 1}`,
      );
      return;
    }
    if (pos > this.expected) {
      const range =
        pos - 1 === this.expected
          ? `position ${this.expected} is`
          : `positions ${this.expected}–${pos - 1} are`;
      this.report(this.expected, 'position_missing', `${range} missing from the chain`);
    }
    this.positions++;
    let leaf = step.leafHash;
    if (step.pruned && !event) {
      this.pruned++;
      this.prunedRange = { from: this.prunedRange?.from ?? pos, to: pos };
    }
    if (event) {
      this.events++;
      if (event.redacted) this.redacted++;
      if (!event.payloadIntact) {
        this.report(
          pos,
          'payload_modified',
          `event ${event.id} at position ${pos}: the payload does not match its sealed hash`,
        );
      }
      if (leaf !== null && event.leafHash !== leaf) this.eventMismatch(pos, event.id, record, leaf);
      leaf ??= event.leafHash;
    } else if (!step.absentByDesign) {
      this.report(pos, 'event_missing', `the event sealed at position ${pos} is gone`);
    }
    let hash: string;
    if (leaf === null) {
      hash = step.hash ?? this.prevHash;
      if (step.hash === null)
        this.report(pos, 'link_broken', `position ${pos} has neither an event nor a link`);
    } else {
      const made = event?.link;
      hash =
        made && made.prev === this.prevHash && leaf === event.leafHash
          ? made.hash
          : linkHash(this.prevHash, leaf);
      if (step.hash !== null && step.hash !== hash && step.leafHash === null && event) {
        // No stored leaf to compare with (an export line): the event or its predecessor changed.
        this.report(
          pos,
          'event_modified',
          `event ${event.id} at position ${pos} does not match its chain hash`,
        );
      } else if (step.hash !== null && step.hash !== hash) {
        this.report(
          pos,
          'link_broken',
          `position ${pos} does not follow from position ${pos - 1} (an event was inserted, removed, reordered or changed here)`,
        );
      }
    }
    if (this.problems.length > problemsBefore) this.lastWalkProblem = pos;
    for (const cp of this.checkpointsAt.get(pos) ?? []) {
      if (cp.hash === hash) {
        this.lastMatchedCheckpoint = pos;
      } else if (this.lastWalkProblem <= this.lastMatchedCheckpoint) {
        // Only when nothing in the walk already explains it: a consistent forgery.
        this.report(
          this.lastMatchedCheckpoint + 1,
          'checkpoint_mismatch',
          `the chain no longer matches the checkpoint signed at ${cp.signedAt} for position ${pos}: something in positions ${this.lastMatchedCheckpoint + 1}–${pos} was changed`,
        );
      }
    }
    this.prevHash = step.hash ?? hash;
    this.lastPos = pos;
    this.expected = pos + 1;
  }

  /** The event does not hash to its sealed leaf: moved (sealed at a neighbouring position) or changed. */
  private eventMismatch(pos: number, id: string, r: AuditRecord | null, sealedLeaf: string): void {
    // With the record at hand (not only its check), a neighbouring position is tried too.
    for (const sealedAt of r ? [pos - 1, pos + 1] : []) {
      if (sealedAt > 0 && leafHash(sealedAt, r!) === sealedLeaf) {
        this.report(
          Math.min(pos, sealedAt),
          'event_moved',
          `event ${id} was sealed at position ${sealedAt} but sits at ${pos}: events were inserted, removed or reordered here`,
        );
        return;
      }
    }
    this.report(
      pos,
      'event_modified',
      `event ${id} at position ${pos} differs from what was sealed`,
    );
  }

  /** Notes a problem found outside the walk (an unchained event, a bad file). */
  report(pos: number | null, kind: ChainProblemKind, message: string): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push({ pos, kind, message });
  }

  finish(): ChainVerdict {
    for (const [pos, cps] of this.checkpointsAt) {
      if (pos > this.lastPos) {
        const cp = cps[0]!;
        this.report(
          this.lastPos + 1,
          'tail_truncated',
          `the checkpoint signed at ${cp.signedAt} covers position ${pos}, but the chain ends at position ${this.lastPos}`,
        );
      }
    }
    const problems = [...this.problems].sort(
      (a, b) => (a.pos ?? Number.MAX_SAFE_INTEGER) - (b.pos ?? Number.MAX_SAFE_INTEGER),
    );
    let checkpoints = 0;
    for (const cps of this.checkpointsAt.values()) checkpoints += cps.length;
    return {
      ok: problems.length === 0,
      positions: this.positions,
      events: this.events,
      lastPos: this.lastPos,
      lastHash: this.prevHash,
      checkpoints,
      redacted: this.redacted,
      pruned: this.pruned,
      prunedRange: this.prunedRange,
      problems,
    };
  }
}
