/*
 * Rows of `COPY (…) TO STDOUT (FORMAT binary)`, read in place: each field is a byte range of the
 * chunk it arrived in, so a row's text never becomes a JavaScript string unless asked for. (The
 * exporter reads millions of rows this way; pg-copy-streams-binary decodes every field into a new
 * value, which is what this avoids.) The format: an 11-byte signature, flags and a header
 * extension; then per row a 16-bit field count and per field a 32-bit length (-1: NULL) and its
 * bytes; then a 16-bit -1. https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4
 */

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');

export class CopyFormatError extends Error {}

/** One row of a binary COPY: its fields as byte ranges of `buf` (valid until the next row). */
export class CopyRow {
  buf: Buffer = Buffer.alloc(0);
  /** Byte length of the row as sent (all its fields). */
  bytes = 0;
  readonly start: Int32Array;
  /** Each field's length in bytes; -1 for NULL. */
  readonly length: Int32Array;

  constructor(readonly fields: number) {
    this.start = new Int32Array(fields);
    this.length = new Int32Array(fields);
  }

  isNull(f: number): boolean {
    return this.length[f]! < 0;
  }

  /** A boolean field. */
  bool(f: number): boolean {
    return this.length[f] === 1 && this.buf[this.start[f]!] === 1;
  }

  /** A bigint field (exact up to 2^53, as positions are). */
  int8(f: number): number {
    const s = this.start[f]!;
    return this.buf.readInt32BE(s) * 0x1_0000_0000 + this.buf.readUInt32BE(s + 4);
  }

  /** A text field as a string (null for NULL). */
  text(f: number): string | null {
    const s = this.start[f]!;
    const n = this.length[f]!;
    return n < 0 ? null : this.buf.toString('utf8', s, s + n);
  }

  /** A bytea field in hex (null for NULL). */
  hex(f: number): string | null {
    const s = this.start[f]!;
    const n = this.length[f]!;
    return n < 0 ? null : this.buf.toString('hex', s, s + n);
  }

  /** The bytes of a field (a view: valid until the next row). */
  bytesOf(f: number): Buffer {
    const s = this.start[f]!;
    return this.buf.subarray(s, s + Math.max(0, this.length[f]!));
  }

  /** Writes a bytea field into `to` at `at` as lowercase hex digits; returns the end. */
  writeHex(f: number, to: Buffer, at: number): number {
    const b = this.buf;
    for (let i = this.start[f]!, end = i + this.length[f]!; i < end; i++) {
      to[at++] = HEX_DIGITS[b[i]! >> 4]!;
      to[at++] = HEX_DIGITS[b[i]! & 15]!;
    }
    return at;
  }
}

/**
 * Splits the chunks of a binary COPY into rows of `fields` fields and calls `onRow` for each
 * (with one reused CopyRow). push() each chunk as it comes, then end().
 */
export class CopyBinaryReader {
  private readonly row: CopyRow;
  private rest: Buffer | null = null;
  private headerRead = false;
  private ended = false;

  constructor(
    fields: number,
    private readonly onRow: (row: CopyRow) => void,
  ) {
    this.row = new CopyRow(fields);
  }

  push(chunk: Buffer): void {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    let at = this.headerRead ? 0 : this.header(buf);
    if (at < 0) {
      this.rest = buf;
      return;
    }
    const row = this.row;
    while (!this.ended && at + 2 <= buf.length) {
      const count = buf.readInt16BE(at);
      if (count === -1) {
        this.ended = true;
        at += 2;
        break;
      }
      if (count !== row.fields) {
        throw new CopyFormatError(`a COPY row has ${count} fields, ${row.fields} were expected`);
      }
      let p = at + 2;
      let whole = true;
      for (let f = 0; f < count; f++) {
        if (p + 4 > buf.length) {
          whole = false;
          break;
        }
        const n = buf.readInt32BE(p);
        p += 4;
        row.start[f] = p;
        row.length[f] = n;
        if (n > 0) p += n;
        if (p > buf.length) {
          whole = false;
          break;
        }
      }
      if (!whole) break;
      row.buf = buf;
      row.bytes = p - at;
      this.onRow(row);
      at = p;
    }
    this.rest = at < buf.length ? buf.subarray(at) : null;
    if (this.ended && this.rest) throw new CopyFormatError('data after the end of a COPY');
  }

  /** Checks that the COPY ended where its end marker said it would. */
  end(): void {
    if (!this.ended) throw new CopyFormatError('the COPY ended before its end marker');
  }

  /** Skips the header; returns where rows start, or -1 while it is incomplete. */
  private header(buf: Buffer): number {
    if (buf.length < SIGNATURE.length + 8) return -1;
    if (!buf.subarray(0, SIGNATURE.length).equals(SIGNATURE)) {
      throw new CopyFormatError('not a binary COPY stream');
    }
    const start = SIGNATURE.length + 8 + buf.readInt32BE(SIGNATURE.length + 4);
    if (buf.length < start) return -1;
    this.headerRead = true;
    return start;
  }
}
