import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { MessageRole } from './conversations.repository.js';

/** A piece of highlighted text: `match` pieces are what the search found. */
export type Highlighted = { text: string; match: boolean }[];

export interface SearchHit {
  conversationId: string;
  title: Highlighted;
  updatedAt: Date;
  /** The conversation's best matching message; null when only its title matched. */
  message: { id: string; role: MessageRole; snippet: Highlighted; createdAt: Date } | null;
}

// ts_headline marks matches with these; content cannot smuggle them in as markup because the
// result is split into pieces here and rendered as text by the UI.
const START = '\u0002';
const STOP = '\u0003';
const HEADLINE = `StartSel=${START}, StopSel=${STOP}, MaxWords=24, MinWords=10, MaxFragments=2, FragmentDelimiter=" … "`;

/**
 * The search as a tsquery: every word of what was typed, each also matching as a prefix
 * (`lisb` finds Lisbon, as a search box typed into should), all required. The words go through
 * the same `simple` parser as the index, then into quoted tsquery lexemes, so no operator the
 * person typed is ever interpreted.
 */
const QUERY = `SELECT to_tsquery('simple', string_agg(
         '''' || replace(replace(lexeme, '\\', '\\\\'), '''', '''''') || ''':*', ' & ')) AS q
  FROM unnest(to_tsvector('simple', $2))`;

/**
 * Full-text search over one user's conversations (their messages through the GIN index
 * `messages_search_idx`, and their titles): one hit per conversation, best first, with the
 * matching words marked.
 */
@Injectable()
export class MessageSearchRepository {
  constructor(private readonly dataSource: DataSource) {}

  async search(userId: string, text: string, limit: number): Promise<SearchHit[]> {
    const rows: {
      conversationId: string;
      title: string;
      updatedAt: Date;
      messageId: string | null;
      role: MessageRole | null;
      snippet: string | null;
      createdAt: Date | null;
    }[] = await this.dataSource.query(
      `WITH query AS (${QUERY}),
       hits AS (
         SELECT DISTINCT ON (m.conversation_id)
                m.conversation_id, m.id, m.role, m.content, m.created_at,
                ts_rank(to_tsvector('simple', left(m.content, 100000)), query.q) AS rank
           FROM messages m, query
          WHERE m.user_id = $1 AND m.conversation_id IS NOT NULL
            AND to_tsvector('simple', left(m.content, 100000)) @@ query.q
          ORDER BY m.conversation_id, rank DESC, m.created_at DESC)
       SELECT c.id AS "conversationId", ts_headline('simple', c.title, query.q, $4) AS title,
              c.updated_at AS "updatedAt", h.id AS "messageId", h.role,
              ts_headline('simple', h.content, query.q, $4) AS snippet, h.created_at AS "createdAt"
         FROM conversations c
         CROSS JOIN query
         LEFT JOIN hits h ON h.conversation_id = c.id
        WHERE c.user_id = $1
          AND (h.id IS NOT NULL OR to_tsvector('simple', c.title) @@ query.q)
        ORDER BY (CASE WHEN to_tsvector('simple', c.title) @@ query.q THEN 1 ELSE 0 END)
                 + coalesce(h.rank, 0) DESC, c.updated_at DESC
        LIMIT $3`,
      [userId, text, limit, HEADLINE],
    );
    return rows.map((r) => ({
      conversationId: r.conversationId,
      title: highlighted(r.title),
      updatedAt: r.updatedAt,
      message:
        r.messageId === null
          ? null
          : {
              id: r.messageId,
              role: r.role!,
              snippet: highlighted(r.snippet ?? ''),
              createdAt: r.createdAt!,
            },
    }));
  }
}

/** ts_headline's marked text as pieces. */
export function highlighted(marked: string): Highlighted {
  const pieces: Highlighted = [];
  for (const [i, part] of marked.split(START).entries()) {
    const [hit, rest] = i === 0 ? [null, part] : splitOnce(part, STOP);
    if (hit) pieces.push({ text: hit, match: true });
    if (rest) pieces.push({ text: rest, match: false });
  }
  return pieces;
}

function splitOnce(text: string, sep: string): [string, string] {
  const at = text.indexOf(sep);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + sep.length)];
}
