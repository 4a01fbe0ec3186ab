import { type DynamicModule, Module } from '@nestjs/common';
import type { Config } from '@enclave/config';
import { PlatformModule, SpaModule } from '@enclave/server';
import { CompletionsModule } from './completions/completions.module.js';
import { ConversationsModule } from './conversations/conversations.module.js';
import { FeedbackModule } from './feedback/feedback.module.js';
import { PresetsModule } from './presets/presets.module.js';
import { SearchModule } from './search/search.module.js';
import { ResponsesModule } from './responses/responses.module.js';
import { UsageModule } from './usage/usage.module.js';

/** The chat app: the OpenAI-compatible /v1 API and the staff chat UI. */
@Module({})
export class ChatAppModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: ChatAppModule,
      imports: [
        PlatformModule.forRoot(config, 'chat'),
        CompletionsModule,
        ResponsesModule,
        ConversationsModule,
        FeedbackModule,
        PresetsModule,
        SearchModule,
        UsageModule,
        // Last: its catch-all page route comes after every API route.
        SpaModule.forRoot({
          name: 'chat web UI',
          buildDir: 'dist/apps/chat/web',
          mount: '/',
          reserved: ['/v1', '/api', '/healthz', '/readyz', '/metrics'],
        }),
      ],
    };
  }
}
