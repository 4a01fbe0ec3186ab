import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Req,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CurrentPrincipal, type Principal } from '@enclave/auth';
import { requestMeta, UuidParam, ZodBody, type Sendable } from '@enclave/http';
import {
  ConversationSettingsBody,
  CreateConversationBody,
  RenameConversationBody,
  SelectVersionBody,
  type Conversation,
} from '@enclave/contracts';
import { type ListConversationsQuery, ListConversationsQueryPipe } from './conversations.schema.js';
import { ConversationsService } from './conversations.service.js';

/** The chat UI's conversations: each signed-in user (session or API key) sees only their own. */
@Controller('api/conversations')
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  @Post()
  @HttpCode(201)
  create(
    @Body(new ZodBody(CreateConversationBody)) body: CreateConversationBody,
    @CurrentPrincipal() principal: Principal,
  ): Promise<Sendable<Conversation>> {
    return this.conversations.create(principal, body);
  }

  @Get()
  list(
    @Query(new ListConversationsQueryPipe()) query: ListConversationsQuery,
    @CurrentPrincipal() principal: Principal,
  ): Promise<Sendable<{ data: Conversation[]; nextCursor: string | null }>> {
    return this.conversations.list(principal, query);
  }

  @Get(':id')
  // Not yet typed against ConversationDetail: the repository reads `outcome` as any string.
  get(@Param('id', UuidParam) id: string, @CurrentPrincipal() principal: Principal) {
    return this.conversations.get(principal, id);
  }

  @Patch(':id')
  rename(
    @Param('id', UuidParam) id: string,
    @Body(new ZodBody(RenameConversationBody)) body: RenameConversationBody,
    @CurrentPrincipal() principal: Principal,
  ): Promise<Sendable<Conversation>> {
    return this.conversations.rename(principal, id, body.title);
  }

  /** The system prompt and parameters sent with every message of the conversation. */
  @Put(':id/settings')
  updateSettings(
    @Param('id', UuidParam) id: string,
    @Body(new ZodBody(ConversationSettingsBody)) body: ConversationSettingsBody,
    @CurrentPrincipal() principal: Principal,
  ): Promise<Sendable<Conversation>> {
    return this.conversations.updateSettings(principal, id, body);
  }

  /** Shows another version of a message: answers the conversation as GET does. */
  @Put(':id/active-message')
  selectVersion(
    @Param('id', UuidParam) id: string,
    @Body(new ZodBody(SelectVersionBody)) body: SelectVersionBody,
    @CurrentPrincipal() principal: Principal,
  ) {
    return this.conversations.selectVersion(principal, id, body.messageId);
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(
    @Param('id', UuidParam) id: string,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
  ): Promise<void> {
    await this.conversations.delete(principal, id, requestMeta(req));
  }
}
