import { Module } from '@nestjs/common';
import { ConversationsDataModule } from '@enclave/conversations';
import { SearchController } from './search.controller.js';

/** Full-text search over the signed-in user's conversations. */
@Module({ imports: [ConversationsDataModule], controllers: [SearchController] })
export class SearchModule {}
