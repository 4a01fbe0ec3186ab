// The chat data: conversations, their messages, feedback on answers, stored responses of the
// Responses API, and the chat processes that serve messages (chat_instances). The repositories
// here are the only code with SQL on those tables; the chat and admin apps and libs/privacy
// call them.
export { ConversationsDataModule } from './conversations-data.module.js';
export {
  ConversationsRepository,
  type Conversation,
  type ConversationFilter,
  type ConversationKey,
  type ConversationMessage,
  type ConversationPage,
  type ConversationParams,
  type ConversationSummary,
  type MessageRole,
} from './conversations.repository.js';
export {
  MessagesRepository,
  type AbandonedMessage,
  type FinishedMessage,
  type MessageOutcome,
  type PendingMessage,
} from './messages.repository.js';
export {
  FeedbackRepository,
  type Feedback,
  type FeedbackFilter,
  type FeedbackRow,
  type Rating,
  type RatedMessage,
} from './feedback.repository.js';
export { activePath, type TreeMessage } from './message-tree.js';
export {
  MessageSearchRepository,
  type Highlighted,
  type SearchHit,
} from './message-search.repository.js';
export { PresetsRepository, type Preset, type PresetOwner } from './presets.repository.js';
export { PromptTemplatesRepository, type PromptTemplate } from './prompt-templates.repository.js';
export { ChatInstancesRepository } from './chat-instances.repository.js';
export { eraseChatContent, holdOverUserMessages, type ChatErasure } from './chat-erasure.js';
export {
  pruneMessages,
  type HoldCondition,
  type MessagePruning,
  type RetentionStep,
} from './chat-retention.js';
export {
  eraseStoredResponses,
  holdOverUserResponses,
  pruneStoredResponses,
  ResponsesRepository,
  type NewStoredResponse,
  type StoredResponse,
} from './responses.repository.js';
