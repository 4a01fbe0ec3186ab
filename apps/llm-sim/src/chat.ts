import { type AnswerPlan, answerId, choiceCount, type StreamWriter, usageJson } from './answer.js';
import { RequestError } from './http.js';
import { contentText, countWords, fillObject, replyWords, sha256, splitPieces } from './reply.js';

/**
 * POST /v1/chat/completions: validation and the deterministic plan of one answer (what to send),
 * plus the exact bytes of each SSE chunk. Timing and faults live in simulator.ts.
 */

export type FinishReason = 'stop' | 'length' | 'tool_calls';

export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** One of the `n` choices of an answer. */
export interface ChatChoice {
  /** The assistant message content; null for a tool call. */
  content: string | null;
  toolCall: ToolCall | null;
  /**
   * What a stream sends one chunk at a time: content pieces, or tool-call argument pieces.
   * Joined, they give `content` (or `toolCall.arguments`); each counts as a completion token.
   */
  pieces: string[];
  finishReason: FinishReason;
}

interface Message {
  role: string;
  content?: unknown;
  name?: unknown;
  tool_call_id?: unknown;
  tool_calls?: unknown;
}

interface FunctionTool {
  name: string;
  parameters: unknown;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function positiveInt(body: Record<string, unknown>, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new RequestError(`'${key}' must be a positive integer`, key);
  }
  return v;
}

export function stopSequences(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return v ? [v] : [];
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) {
    return (v as string[]).filter(Boolean);
  }
  throw new RequestError("'stop' must be a string or an array of strings", 'stop');
}

/** The function tools of `tools`, in order (other tool kinds are ignored). */
function functionTools(v: unknown): FunctionTool[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new RequestError("'tools' must be an array", 'tools');
  const tools: FunctionTool[] = [];
  for (const t of v as unknown[]) {
    if (isObject(t) && isObject(t.function) && typeof t.function.name === 'string') {
      tools.push({ name: t.function.name, parameters: t.function.parameters });
    }
  }
  return tools;
}

/**
 * Validates a parsed request body and decides the answer.
 *
 * prompt_tokens rule: the number of whitespace-separated words across all message contents
 * (string contents, and the `text` of `type: 'text'` parts of array contents) plus 3 per message.
 * completion_tokens: the number of pieces sent (a piece is a word with its leading space).
 */
export function planChat(body: unknown, replyTokens: number, defaultModel: string): ChatPlan {
  if (!isObject(body)) throw new RequestError('The request body must be a JSON object');
  const rawMessages = body.messages;
  if (!Array.isArray(rawMessages) || rawMessages.length === 0) {
    throw new RequestError("'messages' must be a non-empty array", 'messages');
  }
  const model = typeof body.model === 'string' && body.model ? body.model : defaultModel;
  const maxTokens = positiveInt(body, 'max_completion_tokens') ?? positiveInt(body, 'max_tokens');
  const stops = stopSequences(body.stop);
  const tools = functionTools(body.tools);
  const streamOptions = body.stream_options;
  const stream = body.stream === true;
  const includeUsage = stream && isObject(streamOptions) && streamOptions.include_usage === true;

  // One pass over the messages: the hash key of the conversation, prompt words, last user text.
  let key = `${model}\u0000${String(body.seed ?? '')}\u0000`;
  let promptTokens = 0;
  let lastUserText = '';
  let lastRole = '';
  for (let i = 0; i < rawMessages.length; i++) {
    const m = rawMessages[i] as Message;
    if (!isObject(m) || typeof m.role !== 'string') {
      throw new RequestError(
        `'messages[${i}]' must be an object with a string 'role'`,
        `messages[${i}]`,
      );
    }
    const text = contentText(m.content);
    promptTokens += countWords(text) + 3;
    key += `${m.role}\u0000${text}\u0000`;
    if (typeof m.name === 'string') key += m.name;
    if (typeof m.tool_call_id === 'string') key += `\u0000${m.tool_call_id}`;
    if (m.tool_calls !== undefined) key += `\u0000${JSON.stringify(m.tool_calls)}`;
    key += '\u0001';
    if (m.role === 'user') lastUserText = text;
    lastRole = m.role;
  }
  const n = choiceCount(body.n);
  const choices: ChatChoice[] = [];
  for (let i = 0; i < n; i++) {
    // Choice 0 is the answer without `n`; each further one is seeded differently, as samples are.
    const digest = sha256(i === 0 ? key : `${key}\u0002${i}`);
    choices.push(
      planChoice(body, digest, { tools, lastRole, lastUserText, maxTokens, stops, replyTokens }),
    );
  }
  return new ChatPlan(model, stream, includeUsage, promptTokens, choices);
}

interface ChoiceInputs {
  tools: FunctionTool[];
  lastRole: string;
  lastUserText: string;
  maxTokens: number | undefined;
  stops: string[];
  replyTokens: number;
}

/** One choice: a tool call when tools are offered (and not declined), else text. */
function planChoice(
  body: Record<string, unknown>,
  digest: Buffer,
  { tools, lastRole, lastUserText, maxTokens, stops, replyTokens }: ChoiceInputs,
): ChatChoice {
  const toolChoice = body.tool_choice;
  if (tools.length > 0 && toolChoice !== 'none' && lastRole !== 'tool') {
    const wanted =
      isObject(toolChoice) &&
      isObject(toolChoice.function) &&
      typeof toolChoice.function.name === 'string'
        ? toolChoice.function.name
        : undefined;
    const tool = (wanted !== undefined && tools.find((t) => t.name === wanted)) || tools[0];
    const name = wanted ?? tool.name;
    const args = JSON.stringify(fillObject(tool.parameters, lastUserText));
    return {
      content: null,
      toolCall: { id: `call_${digest.toString('hex', 16, 28)}`, name, arguments: args },
      pieces: splitPieces(args),
      finishReason: 'tool_calls',
    };
  }
  const { text, finishReason } = replyText(digest, replyTokens, maxTokens, stops);
  const content = jsonContent(body.response_format, text);
  return { content, toolCall: null, pieces: splitPieces(content), finishReason };
}

/** The reply words, cut at max_tokens (finish `length`) or before the first stop sequence. */
export function replyText(
  digest: Buffer,
  replyTokens: number,
  maxTokens: number | undefined,
  stops: string[],
): { text: string; finishReason: FinishReason } {
  const count = maxTokens !== undefined && maxTokens < replyTokens ? maxTokens : replyTokens;
  let finishReason: FinishReason = count < replyTokens ? 'length' : 'stop';
  let text = replyWords(digest, count).join(' ');
  let cut = -1;
  for (const s of stops) {
    const at = text.indexOf(s);
    if (at >= 0 && (cut < 0 || at < cut)) cut = at;
  }
  if (cut >= 0) {
    text = text.slice(0, cut);
    finishReason = 'stop';
  }
  return { text, finishReason };
}

/**
 * The content for `response_format`: `{"reply":"<text>"}` for json_object; for json_schema an
 * object filling the schema's required properties (all of them if none is required), every string
 * property holding the text; plain text otherwise.
 */
function jsonContent(format: unknown, text: string): string {
  if (!isObject(format)) return text;
  if (format.type === 'json_object') return JSON.stringify({ reply: text });
  if (format.type === 'json_schema') {
    const schema = isObject(format.json_schema) ? format.json_schema.schema : undefined;
    const obj = fillObject(schema, text, true);
    return JSON.stringify(Object.keys(obj).length > 0 ? obj : { reply: text });
  }
  return text;
}

/** A planned chat answer: the `chat.completion` body, or its `chat.completion.chunk` stream. */
export class ChatPlan implements AnswerPlan {
  readonly steps: number;
  readonly completionTokens: number;

  constructor(
    readonly model: string,
    readonly stream: boolean,
    readonly includeUsage: boolean,
    readonly promptTokens: number,
    readonly choices: ChatChoice[],
  ) {
    let steps = 0;
    let tokens = 0;
    for (const c of choices) {
      steps = Math.max(steps, c.pieces.length);
      tokens += c.pieces.length;
    }
    this.steps = steps;
    this.completionTokens = tokens;
  }

  json(created: number): string {
    return JSON.stringify({
      id: answerId('chatcmpl'),
      object: 'chat.completion',
      created,
      model: this.model,
      system_fingerprint: 'llm-sim',
      choices: this.choices.map((c, index) => ({
        index,
        message: c.toolCall
          ? {
              role: 'assistant',
              content: null,
              refusal: null,
              tool_calls: [
                {
                  id: c.toolCall.id,
                  type: 'function',
                  function: { name: c.toolCall.name, arguments: c.toolCall.arguments },
                },
              ],
            }
          : { role: 'assistant', content: c.content, refusal: null },
        logprobs: null,
        finish_reason: c.finishReason,
      })),
      usage: JSON.parse(usageJson(this.promptTokens, this.completionTokens)),
    });
  }

  writer(created: number): StreamWriter {
    return new ChunkWriter(this, answerId('chatcmpl'), created);
  }
}

/**
 * The SSE chunks of a streamed chat answer, as strings built by concatenation around a shared
 * prefix per choice (no per-chunk JSON.stringify of a whole object).
 */
class ChunkWriter implements StreamWriter {
  private readonly base: string;
  /** Per choice: the chunk's text up to its delta. */
  private readonly heads: string[];
  private readonly tail: string;

  constructor(
    private readonly plan: ChatPlan,
    id: string,
    created: number,
  ) {
    this.base =
      `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},` +
      `"model":${JSON.stringify(plan.model)},"system_fingerprint":"llm-sim",`;
    this.heads = plan.choices.map((_, i) => `${this.base}"choices":[{"index":${i},"delta":`);
    this.tail = `,"logprobs":null,"finish_reason":null}]${plan.includeUsage ? ',"usage":null' : ''}}\n\n`;
  }

  /** Each choice's first chunk: the role (and, for a tool call, its id and name). */
  first(): string {
    let out = '';
    this.plan.choices.forEach((c, i) => {
      const call = c.toolCall;
      out += call
        ? `${this.heads[i]}{"role":"assistant","content":null,"refusal":null,"tool_calls":[{"index":0,` +
          `"id":"${call.id}","type":"function","function":{"name":${JSON.stringify(call.name)},` +
          `"arguments":""}}]}${this.tail}`
        : `${this.heads[i]}{"role":"assistant","content":"","refusal":null}${this.tail}`;
    });
    return out;
  }

  step(k: number): string {
    let out = '';
    this.plan.choices.forEach((c, i) => {
      if (k >= c.pieces.length) return;
      const p = JSON.stringify(c.pieces[k]);
      out += c.toolCall
        ? `${this.heads[i]}{"tool_calls":[{"index":0,"function":{"arguments":${p}}}]}${this.tail}`
        : `${this.heads[i]}{"content":${p}}${this.tail}`;
    });
    return out;
  }

  end(): string {
    const usageNull = this.plan.includeUsage ? ',"usage":null' : '';
    let out = '';
    this.plan.choices.forEach((c, i) => {
      out += `${this.heads[i]}{},"logprobs":null,"finish_reason":"${c.finishReason}"}]${usageNull}}\n\n`;
    });
    if (this.plan.includeUsage) {
      const usage = usageJson(this.plan.promptTokens, this.plan.completionTokens);
      out += `${this.base}"choices":[],"usage":${usage}}\n\n`;
    }
    return out + 'data: [DONE]\n\n';
  }
}
