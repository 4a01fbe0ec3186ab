import { type AnswerPlan, answerId, choiceCount, type StreamWriter, usageJson } from './answer.js';
import { type FinishReason, isObject, positiveInt, replyText, stopSequences } from './chat.js';
import { RequestError } from './http.js';
import { countWords, sha256, splitPieces } from './reply.js';

/**
 * POST /v1/completions (legacy text completions): `prompt` (a string, strings, a token array or
 * token arrays) answered with `n` choices per prompt, deterministic like chat. prompt_tokens: the
 * words of each prompt (a token array: its length); completion_tokens: the pieces sent.
 */

interface TextChoice {
  text: string;
  pieces: string[];
  finishReason: FinishReason;
}

function isTokenArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.length > 0 && v.every((n) => Number.isInteger(n));
}

/** The prompts as texts, with their token counts. */
function promptsOf(prompt: unknown): { texts: string[]; tokens: number } {
  if (typeof prompt === 'string') return { texts: [prompt], tokens: countWords(prompt) };
  if (Array.isArray(prompt) && prompt.length > 0) {
    if (prompt.every((p) => typeof p === 'string')) {
      const texts = prompt as string[];
      return { texts, tokens: texts.reduce((n, t) => n + countWords(t), 0) };
    }
    if (isTokenArray(prompt)) return { texts: [prompt.join(' ')], tokens: prompt.length };
    if (prompt.every(isTokenArray)) {
      const arrays = prompt as number[][];
      return {
        texts: arrays.map((t) => t.join(' ')),
        tokens: arrays.reduce((n, t) => n + t.length, 0),
      };
    }
  }
  throw new RequestError(
    "'prompt' must be a string, an array of strings, or an array of token arrays",
    'prompt',
  );
}

export function planText(body: unknown, replyTokens: number, defaultModel: string): TextPlan {
  if (!isObject(body)) throw new RequestError('The request body must be a JSON object');
  const model = typeof body.model === 'string' && body.model ? body.model : defaultModel;
  const { texts, tokens } = promptsOf(body.prompt);
  // OpenAI's default for this endpoint is 16 tokens.
  const maxTokens = positiveInt(body, 'max_tokens') ?? 16;
  const stops = stopSequences(body.stop);
  const n = choiceCount(body.n);
  const stream = body.stream === true;
  const options = body.stream_options;
  const includeUsage = stream && isObject(options) && options.include_usage === true;
  const choices: TextChoice[] = [];
  for (const prompt of texts) {
    const key = `${model}\u0000${String(body.seed ?? '')}\u0000${prompt}`;
    for (let i = 0; i < n; i++) {
      const digest = sha256(i === 0 ? key : `${key}\u0002${i}`);
      const { text, finishReason } = replyText(digest, replyTokens, maxTokens, stops);
      choices.push({ text, pieces: splitPieces(text), finishReason });
    }
  }
  return new TextPlan(model, stream, includeUsage, tokens, choices);
}

/** A planned text answer: the `text_completion` body, or its stream of `text_completion` chunks. */
export class TextPlan implements AnswerPlan {
  readonly steps: number;
  readonly completionTokens: number;

  constructor(
    readonly model: string,
    readonly stream: boolean,
    readonly includeUsage: boolean,
    readonly promptTokens: number,
    readonly choices: TextChoice[],
  ) {
    this.steps = Math.max(0, ...choices.map((c) => c.pieces.length));
    this.completionTokens = choices.reduce((n, c) => n + c.pieces.length, 0);
  }

  json(created: number): string {
    return JSON.stringify({
      id: answerId('cmpl'),
      object: 'text_completion',
      created,
      model: this.model,
      system_fingerprint: 'llm-sim',
      choices: this.choices.map((c, index) => ({
        text: c.text,
        index,
        logprobs: null,
        finish_reason: c.finishReason,
      })),
      usage: JSON.parse(usageJson(this.promptTokens, this.completionTokens)),
    });
  }

  writer(created: number): StreamWriter {
    return new TextChunkWriter(this, answerId('cmpl'), created);
  }
}

/** The SSE chunks of a streamed text answer: each piece as `choices[0].text` of its choice. */
class TextChunkWriter implements StreamWriter {
  private readonly base: string;
  private readonly usageNull: string;

  constructor(
    private readonly plan: TextPlan,
    id: string,
    created: number,
  ) {
    this.base =
      `data: {"id":"${id}","object":"text_completion","created":${created},` +
      `"model":${JSON.stringify(plan.model)},"system_fingerprint":"llm-sim",`;
    this.usageNull = plan.includeUsage ? ',"usage":null' : '';
  }

  private chunk(index: number, text: string, finish: string | null): string {
    return (
      `${this.base}"choices":[{"text":${JSON.stringify(text)},"index":${index},"logprobs":null,` +
      `"finish_reason":${finish ? `"${finish}"` : 'null'}}]${this.usageNull}}\n\n`
    );
  }

  first(): string {
    return '';
  }

  step(k: number): string {
    let out = '';
    this.plan.choices.forEach((c, i) => {
      if (k < c.pieces.length) out += this.chunk(i, c.pieces[k], null);
    });
    return out;
  }

  end(): string {
    let out = '';
    this.plan.choices.forEach((c, i) => (out += this.chunk(i, '', c.finishReason)));
    if (this.plan.includeUsage) {
      const usage = usageJson(this.plan.promptTokens, this.plan.completionTokens);
      out += `${this.base}"choices":[],"usage":${usage}}\n\n`;
    }
    return out + 'data: [DONE]\n\n';
  }
}
