import { SseParser } from '../web/src/sse.js';

// The chat page's reader of streamed answers: events arrive cut at arbitrary points.

const STREAM =
  'data: {"choices":[{"delta":{"content":"Hel"}}]}\n\n' +
  ': a comment line\n' +
  'data: {"choices":[{"delta":{"content":"lo"}}]}\r\n\r\n' +
  'event: ignored\ndata: line one\ndata: line two\n\n' +
  'data: [DONE]\n\n';

const EVENTS = [
  '{"choices":[{"delta":{"content":"Hel"}}]}',
  '{"choices":[{"delta":{"content":"lo"}}]}',
  'line one\nline two',
  '[DONE]',
];

describe('SseParser', () => {
  it('reads whole events, joining data lines and skipping comments and other fields', () => {
    expect(new SseParser().push(STREAM)).toEqual(EVENTS);
  });

  it('gives the same events however the text is cut', () => {
    for (let size = 1; size <= 7; size++) {
      const parser = new SseParser();
      const events: string[] = [];
      for (let i = 0; i < STREAM.length; i += size)
        events.push(...parser.push(STREAM.slice(i, i + size)));
      expect(events).toEqual(EVENTS);
    }
  });

  it('holds back an event until its blank line arrives', () => {
    const parser = new SseParser();
    expect(parser.push('data: [DO')).toEqual([]);
    expect(parser.push('NE]\n')).toEqual([]);
    expect(parser.push('\n')).toEqual(['[DONE]']);
  });
});
