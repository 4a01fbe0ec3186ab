import { Injectable } from '@nestjs/common';
import { type Config, InjectConfig } from '@enclave/config';
import OpenAI from 'openai';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParams,
} from 'openai/resources/chat/completions';
import type { CreateEmbeddingResponse, EmbeddingCreateParams } from 'openai/resources/embeddings';
import { upstreamError } from './upstream-error.js';

const MODELS_TTL_MS = 30_000;

export interface UpstreamCall {
  /** Aborts the upstream request (the client went away). */
  signal: AbortSignal;
}

/**
 * The one upstream LLM server from config (ENCLAVE_UPSTREAM_URL, default: the bundled simulator),
 * spoken to with the official `openai` client. Errors come out as ApiErrors (see upstreamError).
 * The upstream pool with several backends, health and failover replaces this in libs/llm.
 */
@Injectable()
export class UpstreamClient {
  readonly name: string;
  private readonly client: OpenAI;
  private readonly timeoutMs: number;
  private models: { ids: string[]; at: number } | null = null;

  constructor(@InjectConfig() config: Config) {
    this.name = config.upstream.isBundledSimulator ? 'llm-sim' : new URL(config.upstream.url).host;
    this.timeoutMs = config.upstream.timeoutMs;
    this.client = new OpenAI({
      baseURL: config.upstream.url,
      apiKey: config.upstream.apiKey ?? 'none',
      maxRetries: 0,
      // Our own timer below decides what a timeout is; this is only a backstop.
      timeout: config.upstream.timeoutMs * 2,
    });
  }

  get isBundledSimulator(): boolean {
    return this.name === 'llm-sim';
  }

  /** Model ids the upstream serves, cached for 30 s. */
  async listModels(): Promise<string[]> {
    if (this.models && Date.now() - this.models.at < MODELS_TTL_MS) return this.models.ids;
    const ids = await this.call({ signal: new AbortController().signal }, async (signal) => {
      const page = await this.client.models.list({ signal });
      return page.data.map((m) => m.id);
    });
    this.models = { ids, at: Date.now() };
    return ids;
  }

  chat(
    body: ChatCompletionCreateParams & { stream?: false | null },
    call: UpstreamCall,
  ): Promise<ChatCompletion> {
    return this.call(call, (signal) =>
      this.client.chat.completions.create({ ...body, stream: false }, { signal }),
    );
  }

  /** Resolves once the upstream started answering; the chunks follow as they arrive. */
  chatStream(
    body: ChatCompletionCreateParams,
    call: UpstreamCall,
  ): Promise<AsyncIterable<ChatCompletionChunk>> {
    return this.call(call, (signal) =>
      this.client.chat.completions.create(
        { ...body, stream: true, stream_options: { include_usage: true } },
        { signal },
      ),
    );
  }

  embeddings(body: EmbeddingCreateParams, call: UpstreamCall): Promise<CreateEmbeddingResponse> {
    return this.call(call, (signal) => this.client.embeddings.create(body, { signal }));
  }

  /** Runs one upstream request with the time-to-first-byte limit and the caller's abort signal. */
  private async call<T>(call: UpstreamCall, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.timeoutMs);
    try {
      // The combined signal stays attached to a stream after this returns, so a client that
      // leaves mid-stream still stops the upstream.
      return await run(AbortSignal.any([call.signal, timeout.signal]));
    } catch (err) {
      throw upstreamError(err, timeout.signal.aborted, this.name);
    } finally {
      clearTimeout(timer);
    }
  }
}
