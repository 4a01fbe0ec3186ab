import { randomBytes } from 'node:crypto';
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

export interface ChatPlan {
  model: string;
  stream: boolean;
  includeUsage: boolean;
  /** The assistant message content; null for a tool call. */
  content: string | null;
  toolCall: ToolCall | null;
  /**
   * What a stream sends one chunk at a time: content pieces, or tool-call argument pieces.
   * Joined, they give `content` (or `toolCall.arguments`); their count is completion_tokens.
   */
  pieces: string[];
  finishReason: FinishReason;
  promptTokens: number;
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

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function positiveInt(body: Record<string, unknown>, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new RequestError(`'${key}' must be a positive integer`, key);
  }
  return v;
}

function stopSequences(v: unknown): string[] {
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

let idCounter = 0;
const idPrefix = randomBytes(6).toString('hex');

export function completionId(): string {
  idCounter = (idCounter + 1) % 0x100000000;
  return `chatcmpl-${idPrefix}${idCounter.toString(16).padStart(8, '0')}`;
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
  const digest = sha256(key);

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
      model,
      stream,
      includeUsage,
      content: null,
      toolCall: { id: `call_${digest.toString('hex', 16, 28)}`, name, arguments: args },
      pieces: splitPieces(args),
      finishReason: 'tool_calls',
      promptTokens,
    };
  }

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
  const content = jsonContent(body.response_format, text);
  return {
    model,
    stream,
    includeUsage,
    content,
    toolCall: null,
    pieces: splitPieces(content),
    finishReason,
    promptTokens,
  };
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

export function usageOf(plan: ChatPlan, completionTokens: number) {
  return {
    prompt_tokens: plan.promptTokens,
    completion_tokens: completionTokens,
    total_tokens: plan.promptTokens + completionTokens,
  };
}

/** The `chat.completion` body of a non-streamed answer. */
export function completionJson(plan: ChatPlan, id: string, created: number): string {
  const message = plan.toolCall
    ? {
        role: 'assistant',
        content: null,
        refusal: null,
        tool_calls: [
          {
            id: plan.toolCall.id,
            type: 'function',
            function: { name: plan.toolCall.name, arguments: plan.toolCall.arguments },
          },
        ],
      }
    : { role: 'assistant', content: plan.content, refusal: null };
  return JSON.stringify({
    id,
    object: 'chat.completion',
    created,
    model: plan.model,
    system_fingerprint: 'llm-sim',
    choices: [{ index: 0, message, logprobs: null, finish_reason: plan.finishReason }],
    usage: usageOf(plan, plan.pieces.length),
  });
}

/**
 * The SSE chunks of a streamed answer, as strings built by concatenation around a shared prefix
 * (no per-chunk JSON.stringify of a whole object).
 */
export class ChunkWriter {
  private readonly head: string;
  private readonly tail: string;

  constructor(
    private readonly plan: ChatPlan,
    private readonly id: string,
    private readonly created: number,
  ) {
    this.head =
      `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},` +
      `"model":${JSON.stringify(plan.model)},"system_fingerprint":"llm-sim",` +
      `"choices":[{"index":0,"delta":`;
    this.tail = `,"logprobs":null,"finish_reason":null}]${plan.includeUsage ? ',"usage":null' : ''}}\n\n`;
  }

  /** The first chunk: the role (and, for a tool call, its id and name). */
  first(): string {
    const call = this.plan.toolCall;
    if (!call) return `${this.head}{"role":"assistant","content":"","refusal":null}${this.tail}`;
    return (
      `${this.head}{"role":"assistant","content":null,"refusal":null,"tool_calls":[{"index":0,` +
      `"id":"${call.id}","type":"function","function":{"name":${JSON.stringify(call.name)},` +
      `"arguments":""}}]}${this.tail}`
    );
  }

  piece(i: number): string {
    const p = JSON.stringify(this.plan.pieces[i]);
    return this.plan.toolCall
      ? `${this.head}{"tool_calls":[{"index":0,"function":{"arguments":${p}}}]}${this.tail}`
      : `${this.head}{"content":${p}}${this.tail}`;
  }

  /** The finish chunk, the usage chunk if asked for, and [DONE]. */
  end(): string {
    let out =
      `${this.head}{},"logprobs":null,"finish_reason":"${this.plan.finishReason}"}]` +
      `${this.plan.includeUsage ? ',"usage":null' : ''}}\n\n`;
    if (this.plan.includeUsage) {
      out +=
        `data: {"id":"${this.id}","object":"chat.completion.chunk","created":${this.created},` +
        `"model":${JSON.stringify(this.plan.model)},"system_fingerprint":"llm-sim","choices":[],` +
        `"usage":${JSON.stringify(usageOf(this.plan, this.plan.pieces.length))}}\n\n`;
    }
    return out + 'data: [DONE]\n\n';
  }
}
