import type { ConversationDetail } from './api';

// A conversation as a file to keep, made in the browser from the copy the page already loads
// (GET /api/conversations/:id): no second endpoint with its own access rules, and the server
// sends nothing it has not already sent to this person.

/** The export's JSON: the API's own shape, with when and from where it was exported. */
export function conversationJson(c: ConversationDetail, exportedAt = new Date()): string {
  return JSON.stringify({ exportedAt: exportedAt.toISOString(), conversation: c }, null, 2);
}

/** Markdown a person can read: the title, then each turn under who said it. */
export function conversationMarkdown(
  c: ConversationDetail,
  labels: { you: string; assistant: string; system: string },
): string {
  const turns = c.messages
    .filter((m) => m.role !== 'tool' && (m.content || m.role !== 'assistant'))
    .map((m) => {
      const who =
        m.role === 'user' ? labels.you : m.role === 'system' ? labels.system : labels.assistant;
      const model = m.role === 'assistant' && m.model ? ` (${m.model})` : '';
      return `### ${who}${model} · ${m.createdAt}\n\n${m.content}\n`;
    });
  return `# ${c.title}\n\n${turns.join('\n')}`;
}

/** A file name from the title: letters, digits and dashes. */
export function exportFileName(c: ConversationDetail, extension: 'md' | 'json'): string {
  const slug =
    c.title
      .normalize('NFKD')
      .replace(/[^\w\s-]/g, '')
      .trim()
      .replace(/\s+/g, '-')
      .slice(0, 60) || 'conversation';
  return `${slug}.${extension}`;
}

/** Hands the text to the browser as a download. */
export function download(text: string, fileName: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: `${type};charset=utf-8` }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  // The click has started the download; the URL can go once this task ends.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
