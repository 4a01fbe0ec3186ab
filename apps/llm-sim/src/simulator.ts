import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '@enclave/config';
import type { AnswerPlan } from './answer.js';
import { type ChatPlan, planChat } from './chat.js';
import { planText } from './completions.js';
import { embeddingsJson } from './embeddings.js';
import { planResponse, responseEvents, responseJson } from './responses.js';
import {
  errorJson,
  Exchange,
  readBody,
  RequestError,
  sendJson,
  sendRequestError,
  SSE_HEADERS,
  TOO_LARGE,
} from './http.js';

/**
 * An OpenAI-compatible LLM simulator on plain `node:http`: GET /v1/models,
 * POST /v1/chat/completions (plain and SSE-streamed, tools, JSON mode, `n` choices),
 * POST /v1/completions (legacy text completions, the same), POST /v1/embeddings and, when asked
 * (`responsesApi`), POST /v1/responses, with deterministic answers, configurable latency and
 * injected faults. Built to be cheap per request so it is never the bottleneck of a benchmark.
 * The last request bodies it parsed are kept in `received` (a test asserts with it what reached
 * the upstream, unknown fields included), and `served` counts them by path.
 *
 * Timing: every completion/embeddings answer waits `ttftMs` before its first byte; with
 * `tokensPerSec > 0` a stream sends piece k (of every choice) at ttft + k/tokensPerSec and a
 * non-streamed answer waits for the same total. With 0, everything goes out at once in as few writes as possible.
 *
 * Faults, drawn per chat/embeddings request (GET /v1/models never faults), after the body is
 * validated: a stall (`stallRate`) waits `stallMs` and then answers normally (0: never answers,
 * until the client leaves); an error (`errorRate`) answers `errorStatus` at once, without the
 * ttft; a drop (`dropRate`) cuts a stream after `dropAfterTokens` pieces (no finish chunk, no
 * [DONE]) and, for a non-streamed request, destroys the socket after the ttft with no response.
 */
export type LlmSimOptions = Config['llmSim'] & {
  /**
   * Serve POST /v1/responses (OpenAI's Responses API) too, as some backends do; off, the route
   * is a 404 as on llama.cpp or TGI. Per simulator instance, for tests of both kinds.
   */
  responsesApi?: boolean;
};

export interface LlmSim {
  server: Server;
  /** Resolves with the actual port (pass 0 for an ephemeral one). Host defaults to 127.0.0.1. */
  listen(port: number, host?: string): Promise<number>;
  /** Stops listening and ends every connection, in-flight and stalled responses included. */
  close(): Promise<void>;
  /** POST requests answered, by path: which API a caller used. */
  readonly served: Record<string, number>;
  /** The last RECEIVED_KEPT POST bodies as parsed, oldest first, with their path. */
  received: ReceivedRequest[];
}

export interface ReceivedRequest {
  path: string;
  body: unknown;
}

/** How many request bodies `received` keeps (the parsed objects exist anyway: no copy is made). */
const RECEIVED_KEPT = 64;

const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** At most this many SSE chunks per write when several are due at once. */
const MAX_CHUNKS_PER_WRITE = 1024;

interface Fault {
  stall: boolean;
  error: boolean;
  drop: boolean;
}

export function createLlmSim(options: LlmSimOptions): LlmSim {
  const opts = { ...options, models: [...options.models] };
  const defaultModel = opts.models[0] ?? 'llm-sim';
  const created = Math.floor(Date.now() / 1000);
  const modelObjects = opts.models.map((id) => ({
    id,
    object: 'model',
    created,
    owned_by: 'llm-sim',
  }));
  const modelsBody = JSON.stringify({ object: 'list', data: modelObjects });
  const injectedError = errorJson(
    'llm-sim: injected fault',
    opts.errorStatus === 429 ? 'rate_limit_error' : 'server_error',
    null,
    'injected_fault',
  );
  const errorHeaders = opts.errorStatus === 429 ? { 'retry-after': '1' } : undefined;

  const received: ReceivedRequest[] = [];

  const drawFault = (): Fault => ({
    stall: opts.stallRate > 0 && Math.random() < opts.stallRate,
    error: opts.errorRate > 0 && Math.random() < opts.errorRate,
    drop: opts.dropRate > 0 && Math.random() < opts.dropRate,
  });

  /** Applies stall and error faults; true when the request should still be answered. */
  async function survivesFaults(ex: Exchange, fault: Fault): Promise<boolean> {
    if (fault.stall) {
      const alive = opts.stallMs > 0 ? await ex.sleep(opts.stallMs) : await ex.untilClosed();
      if (!alive) return false;
    }
    if (fault.error) {
      sendJson(ex.res, opts.errorStatus, injectedError, errorHeaders);
      return false;
    }
    return true;
  }

  async function answer(ex: Exchange, plan: AnswerPlan): Promise<void> {
    const fault = drawFault();
    if (!(await survivesFaults(ex, fault))) return;
    const { res } = ex;
    const now = Math.floor(Date.now() / 1000);
    const n = plan.steps;
    const tps = opts.tokensPerSec;

    if (!plan.stream) {
      const wait = opts.ttftMs + (tps > 0 && n > 1 ? ((n - 1) * 1000) / tps : 0);
      if (!(await ex.sleep(fault.drop ? opts.ttftMs : wait))) return;
      if (fault.drop) res.destroy();
      else sendJson(res, 200, plan.json(now));
      return;
    }

    if (!(await ex.sleep(opts.ttftMs))) return;
    const chunks = plan.writer(now);
    const limit = fault.drop ? Math.min(opts.dropAfterTokens, n) : n;
    res.writeHead(200, SSE_HEADERS);
    let out = chunks.first();
    let sent = 0;
    const t0 = performance.now();
    while (sent < limit) {
      let due = limit;
      if (tps > 0) {
        due = Math.min(limit, Math.floor(((performance.now() - t0) * tps) / 1000) + 1);
        if (due <= sent) {
          const nextAt = t0 + (sent * 1000) / tps;
          if (!(await ex.sleep(Math.max(1, Math.ceil(nextAt - performance.now()))))) return;
          continue;
        }
      }
      due = Math.min(due, sent + MAX_CHUNKS_PER_WRITE);
      for (; sent < due; sent++) out += chunks.step(sent);
      // The last batch goes out with the end of the stream (or right before the drop).
      if (sent < limit) {
        const flushed = res.write(out);
        out = '';
        if (!flushed && !(await ex.drain())) return;
        if (ex.closed) return;
      }
    }
    if (fault.drop) {
      // Destroy once the pieces are handed to the kernel, so the client gets them before the cut.
      res.write(out, () => res.destroy());
      return;
    }
    res.end(out + chunks.end());
  }

  async function responses(ex: Exchange, plan: ChatPlan): Promise<void> {
    const fault = drawFault();
    if (!(await survivesFaults(ex, fault))) return;
    if (!(await ex.sleep(opts.ttftMs))) return;
    if (fault.drop) return void ex.res.destroy();
    const now = Math.floor(Date.now() / 1000);
    if (!plan.stream) return sendJson(ex.res, 200, responseJson(plan, now));
    ex.res.writeHead(200, SSE_HEADERS);
    ex.res.end(responseEvents(plan, now));
  }

  async function embeddings(ex: Exchange, body: string): Promise<void> {
    const fault = drawFault();
    if (!(await survivesFaults(ex, fault))) return;
    if (!(await ex.sleep(opts.ttftMs))) return;
    if (fault.drop) ex.res.destroy();
    else sendJson(ex.res, 200, body);
  }

  const served: Record<string, number> = {};

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';

    if (method === 'GET') {
      if (path === '/v1/models') return sendJson(res, 200, modelsBody);
      if (path.startsWith('/v1/models/')) {
        let id = path.slice('/v1/models/'.length);
        try {
          id = decodeURIComponent(id);
        } catch {
          // keep it as sent
        }
        const model = modelObjects.find((m) => m.id === id);
        if (model) return sendJson(res, 200, JSON.stringify(model));
        return sendRequestError(
          res,
          new RequestError(`The model '${id}' does not exist`, 'model', 404, 'model_not_found'),
        );
      }
    }
    const isChat = method === 'POST' && path === '/v1/chat/completions';
    const isText = method === 'POST' && path === '/v1/completions';
    const isEmbeddings = method === 'POST' && path === '/v1/embeddings';
    const isResponses = method === 'POST' && path === '/v1/responses' && !!opts.responsesApi;
    if (!isChat && !isText && !isEmbeddings && !isResponses) {
      req.resume();
      return sendRequestError(res, new RequestError(`Invalid URL (${method} ${path})`, null, 404));
    }

    const ex = new Exchange(req, res);
    const raw = await readBody(req, MAX_BODY_BYTES);
    if (raw === null) return;
    if (raw === TOO_LARGE) {
      res.shouldKeepAlive = false;
      return sendRequestError(
        res,
        new RequestError(`Request body larger than ${MAX_BODY_BYTES} bytes`, null, 413),
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return sendRequestError(
        res,
        new RequestError(
          'We could not parse the JSON body of your request. (HINT: This likely means you ' +
            "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)",
        ),
      );
    }
    served[path] = (served[path] ?? 0) + 1;
    received.push({ path, body });
    if (received.length > RECEIVED_KEPT) received.shift();
    try {
      if (isChat) await answer(ex, planChat(body, opts.replyTokens, defaultModel));
      else if (isText) await answer(ex, planText(body, opts.replyTokens, defaultModel));
      else if (isResponses) await responses(ex, planResponse(body, opts.replyTokens, defaultModel));
      else await embeddings(ex, embeddingsJson(body, defaultModel));
    } catch (err) {
      if (err instanceof RequestError) return sendRequestError(res, err);
      throw err;
    }
  }

  const server = createServer({ noDelay: true }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        sendJson(res, 500, errorJson(`llm-sim: ${String(err)}`, 'server_error'));
      } else res.destroy();
    });
  });

  // Outlive typical client idle timeouts, so a benchmark client never races a server-side close.
  server.keepAliveTimeout = 65_000;

  return {
    server,
    served,
    received,
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
