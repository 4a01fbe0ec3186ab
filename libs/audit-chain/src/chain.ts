import { sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson, payloadTextHash, sha256Hex } from '@enclave/audit';

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
  /**
   * The payload as the database stores it (its JSON text), when read from there. Payloads that
   * AuditLog.append wrote are their canonical text, so the chain checks and exports this text as
   * it is instead of encoding `payload` again.
   */
  payloadText?: string;
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
 * The leaf of an event at a position: what the chain hashes. The one encoder of an event for the
 * chain: the sealer, the database verifier, the exporter and the offline verifier all hash this.
 * It is canonicalJson({ v, pos, id, occurredAt, actor…, action, target…, outcome, sourceIp,
 * userAgent, requestId, payloadHash }) written out with its keys already in sorted order
 * (chain.spec.ts checks that the two agree).
 */
export function leafText(pos: number, r: AuditRecord): string {
  const j = canonicalJson;
  return (
    `{"action":${j(r.action)},"actorId":${j(r.actorId)},"actorLabel":${j(r.actorLabel)},` +
    `"actorType":${j(r.actorType)},"id":${j(r.id)},"occurredAt":${j(r.occurredAt)},` +
    `"outcome":${j(r.outcome)},"payloadHash":${j(r.payloadHash)},"pos":${j(pos)},` +
    `"requestId":${j(r.requestId)},"sourceIp":${j(r.sourceIp)},"targetId":${j(r.targetId)},` +
    `"targetType":${j(r.targetType)},"userAgent":${j(r.userAgent)},"v":${LEAF_VERSION}}`
  );
}

/**
 * The canonical text of an event's payload and whether it is what the chain committed to. A
 * stored text that hashes to the sealed hash is the canonical text; otherwise (payloads stored
 * as jsonb before, or a changed one) the value is encoded again and checked.
 */
export function checkPayload(r: AuditRecord): { text: string; intact: boolean } {
  const stored = r.payloadText;
  if (stored !== undefined && payloadIntact(r, stored)) return { text: stored, intact: true };
  const text = canonicalJson(stored !== undefined ? JSON.parse(stored) : r.payload);
  return { text, intact: text !== stored && payloadIntact(r, text) };
}

export function leafHash(pos: number, r: AuditRecord): string {
  return sha256Hex(leafText(pos, r));
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

  /** Checks one position; returns the event's canonical payload text (null without an event). */
  visit(step: ChainStep): string | null {
    const r = step.record;
    const { pos } = step;
    const problemsBefore = this.problems.length;
    if (pos < this.expected) {
      this.report(
        pos,
        'position_out_of_order',
        `position ${pos} appears again after position ${this.expected - 1}`,
      );
      return null;
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
    if (step.pruned && !r) {
      this.pruned++;
      this.prunedRange = { from: this.prunedRange?.from ?? pos, to: pos };
    }
    const eventLeaf = r ? leafHash(pos, r) : null;
    let payloadText: string | null = null;
    if (r) {
      this.events++;
      if (r.redactedAt) this.redacted++;
      const checked = checkPayload(r);
      payloadText = checked.text;
      if (!checked.intact) {
        this.report(
          pos,
          'payload_modified',
          `event ${r.id} at position ${pos}: the payload does not match its sealed hash`,
        );
      }
      if (leaf !== null && eventLeaf !== leaf) this.eventMismatch(pos, r, leaf);
      leaf ??= eventLeaf;
    } else if (!step.absentByDesign) {
      this.report(pos, 'event_missing', `the event sealed at position ${pos} is gone`);
    }
    let hash: string;
    if (leaf === null) {
      hash = step.hash ?? this.prevHash;
      if (step.hash === null)
        this.report(pos, 'link_broken', `position ${pos} has neither an event nor a link`);
    } else {
      hash = linkHash(this.prevHash, leaf);
      if (step.hash !== null && step.hash !== hash && step.leafHash === null && r) {
        // No stored leaf to compare with (an export line): the event or its predecessor changed.
        this.report(
          pos,
          'event_modified',
          `event ${r.id} at position ${pos} does not match its chain hash`,
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
    return payloadText;
  }

  /** The event does not hash to its sealed leaf: moved (sealed at a neighbouring position) or changed. */
  private eventMismatch(pos: number, r: AuditRecord, sealedLeaf: string): void {
    const id = r.id;
    for (const sealedAt of [pos - 1, pos + 1]) {
      if (sealedAt > 0 && leafHash(sealedAt, r) === sealedLeaf) {
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
