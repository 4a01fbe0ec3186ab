/**
 * A stable JSON text for hashing and signing: object keys sorted, no whitespace, `undefined`
 * members dropped (as JSON.stringify does). The same value always gives the same text, whether it
 * was built in memory or read back from a jsonb column (which reorders keys).
 *
 * It runs once or twice per audit event when sealing, exporting and verifying, so it appends to
 * one string with plain loops and writes plain strings, numbers and booleans itself instead of
 * calling JSON.stringify for each (the text is the same; chain.spec.ts compares them).
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return jsonString(value);
    case 'number':
      // JSON.stringify writes finite numbers as String() does, and NaN/Infinity as null.
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default: {
      const text = JSON.stringify(value);
      return text === undefined ? 'null' : text;
    }
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    let text = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) text += ',';
      const v: unknown = value[i];
      text += v === undefined ? 'null' : canonicalJson(v);
    }
    return `${text}]`;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return canonicalJson((value as { toJSON(): unknown }).toJSON());
  }
  const obj = value as Record<string, unknown>;
  // Default sort compares UTF-16 code units, as the `<` comparison it replaces did.
  const keys = Object.keys(obj).sort();
  let text = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined || typeof v === 'function') continue;
    text += `${first ? '' : ','}${jsonString(k)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${text}}`;
}

// Printable ASCII without `"` and `\`: its JSON text is the string in quotes.
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * JSON.stringify of a string or null, with a fast path for the plain ASCII that ids, hashes and
 * timestamps are (called ~30 times per event by the chain and the exporter).
 */
export function jsonString(value: string | null | undefined): string {
  if (value == null) return 'null';
  return typeof value === 'string' && PLAIN_ASCII.test(value)
    ? `"${value}"`
    : JSON.stringify(value);
}
