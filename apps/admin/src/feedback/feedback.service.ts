import { Injectable } from '@nestjs/common';
import { UsersRepository } from '@enclave/auth';
import { type FeedbackFilter, FeedbackRepository, type FeedbackRow } from '@enclave/conversations';

/**
 * Feedback on answers for admins and auditors: newest first, with who gave it (the rows from
 * libs/conversations, the givers' emails from libs/auth).
 */
@Injectable()
export class AdminFeedbackService {
  constructor(
    private readonly feedback: FeedbackRepository,
    private readonly users: UsersRepository,
  ) {}

  async list(f: FeedbackFilter): Promise<{
    items: (FeedbackRow & { userEmail: string })[];
    next: { createdAt: string; id: string } | null;
  }> {
    const page = await this.feedback.list(f);
    const emails = await this.users.emailsOf(page.items.map((r) => r.userId));
    // A giver is never missing (feedback goes with its user) unless deleted just now.
    return {
      items: page.items.map((r) => ({ ...r, userEmail: emails.get(r.userId) ?? '' })),
      next: page.next,
    };
  }
}
