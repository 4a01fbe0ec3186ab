import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { ApiKeysRepository, generateApiKey, type Role, UsersRepository } from '@enclave/auth';
import type { Config } from '@enclave/config';
import type OpenAI from 'openai';
import { DataSource } from 'typeorm';
import { ChatAppModule } from '../../apps/chat/src/chat.module.js';
import { createLlmSim, type LlmSim, type LlmSimOptions } from '../../apps/llm-sim/src/simulator.js';
import { startApp } from './app.js';
import { testConfig } from './config.js';
import { openaiClient } from './openai.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

export const SIM_DEFAULTS: LlmSimOptions = {
  models: ['enclave-sim', 'sim-large'],
  ttftMs: 0,
  tokensPerSec: 0,
  replyTokens: 12,
  errorRate: 0,
  errorStatus: 500,
  stallRate: 0,
  stallMs: 0,
  dropRate: 0,
  dropAfterTokens: 4,
};

/**
 * A chat app on a real Postgres (fresh database) in front of an in-process llm-sim, listening on
 * a loopback port so the official SDK can talk to it.
 */
export class ChatHarness {
  app!: INestApplication;
  sim!: LlmSim;
  db!: TestDatabase;
  config!: Config;
  baseURL!: string;
  dataSource!: DataSource;

  /** `port`: a fixed port (e.g. one already registered elsewhere as a redirect URI); 0: any. */
  static async start(
    sim: Partial<LlmSimOptions> = {},
    env: Record<string, string> = {},
    port = 0,
  ): Promise<ChatHarness> {
    const h = new ChatHarness();
    h.db = await createTestDatabase();
    h.sim = createLlmSim({ ...SIM_DEFAULTS, ...sim });
    const simPort = await h.sim.listen(0);
    h.config = testConfig({
      DATABASE_URL: h.db.url,
      ENCLAVE_UPSTREAM_URL: `http://127.0.0.1:${simPort}/v1`,
      ...env,
    });
    h.app = await startApp(ChatAppModule.forRoot(h.config), h.config);
    await h.app.listen(port, '127.0.0.1');
    h.baseURL = ChatHarness.urlOf(h.app);
    h.dataSource = h.app.get(DataSource);
    return h;
  }

  private readonly extraApps: INestApplication[] = [];
  private readonly extraSims: LlmSim[] = [];

  /** Another chat instance on the same database and config, as a second process would be. */
  async secondInstance(): Promise<INestApplication> {
    const app = await startApp(ChatAppModule.forRoot(this.config), this.config);
    this.extraApps.push(app);
    await app.listen(0, '127.0.0.1');
    return app;
  }

  static urlOf(app: INestApplication): string {
    const { port } = app.getHttpServer().address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Another simulator, e.g. to add as a second backend; closed with the harness. */
  async extraSim(options: Partial<LlmSimOptions> = {}): Promise<{ sim: LlmSim; url: string }> {
    const sim = createLlmSim({ ...SIM_DEFAULTS, ...options });
    this.extraSims.push(sim);
    const port = await sim.listen(0);
    return { sim, url: `http://127.0.0.1:${port}/v1` };
  }

  async stop(): Promise<void> {
    for (const app of this.extraApps) await app.close();
    await this.app.close();
    await Promise.all([this.sim, ...this.extraSims].map((s) => s.close()));
    await this.db.drop();
  }

  /** A user with an API key (optionally limited to some models or expiring). */
  async user(
    email: string,
    opts: { role?: Role; models?: string[] | null; expiresAt?: Date | null } = {},
  ): Promise<{ userId: string; key: string; prefix: string; client: OpenAI }> {
    const users = this.app.get(UsersRepository);
    const keys = this.app.get(ApiKeysRepository);
    const user = await users.insert(this.dataSource.manager, {
      email,
      role: opts.role ?? 'user',
      passwordHash: null,
    });
    const { key, prefix, secretHash } = generateApiKey();
    await keys.insert(this.dataSource.manager, {
      userId: user.id,
      name: 'test',
      prefix,
      secretHash,
      models: opts.models ?? null,
      expiresAt: opts.expiresAt ?? null,
    });
    return { userId: user.id, key, prefix, client: openaiClient(`${this.baseURL}/v1`, key) };
  }

  async count(sql: string, params: unknown[] = []): Promise<number> {
    const [{ n }] = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM (${sql}) q`,
      params,
    );
    return n;
  }
}
