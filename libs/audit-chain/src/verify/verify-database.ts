import { AuditChainRepository, type StoredLink } from '../audit-chain.repository.js';
import { type ChainStep, type ChainVerdict, ChainWalker, GENESIS_HASH } from '../chain.js';
import { asKeyring, type VerificationKeys } from '../keyring.js';
import type { Sql } from '@enclave/db';

export interface DatabaseVerdict extends ChainVerdict {
  /** Committed events still waiting for the sealer (not a problem, but not covered yet). */
  unsealed: number;
}

// Links per query: fewer round trips (~20% of the wall time at 2,000), memory still flat.
const PAGE = 5_000;
const MAX_UNCHAINED = 100;

/** A stored link as the walker's step: an event gone with its link marked pruned is gone by design. */
export function linkStep(link: StoredLink): ChainStep {
  const pruned = link.prunedAt !== null;
  return {
    pos: link.pos,
    leafHash: link.leafHash,
    hash: link.hash,
    record: link.record,
    absentByDesign: link.record === null && pruned,
    pruned,
  };
}

/**
 * Verifies the whole chain in the database against the keyring (or one public key): every link,
 * every event's payload and content, every checkpoint, and that no event sits outside both chain
 * and queue. Reads a page at a time, so memory stays flat however long the chain is.
 */
export async function verifyDatabaseChain(
  sql: Sql,
  keys: VerificationKeys,
  /** Called after each page with the positions walked so far (a job's progress and heartbeat). */
  onProgress?: (positions: number) => Promise<void>,
): Promise<DatabaseVerdict> {
  const repo = new AuditChainRepository(sql);
  const walker = new ChainWalker({
    fromPos: 0,
    fromHash: GENESIS_HASH,
    checkpoints: await repo.checkpoints(),
    keys: asKeyring(keys),
  });
  let walked = 0;
  for await (const page of repo.pages(0, PAGE)) {
    for (const link of page) walker.visit(linkStep(link));
    walked += page.length;
    await onProgress?.(walked);
  }
  for (const id of await repo.unchainedEvents(MAX_UNCHAINED)) {
    walker.report(
      null,
      'unchained_event',
      `event ${id} is neither sealed nor queued for sealing (written around AuditLog.append)`,
    );
  }
  const { unsealed } = await repo.queueStats();
  return { ...walker.finish(), unsealed };
}
