import { Module } from '@nestjs/common';
import { AuditPrivacyController } from './audit-privacy.controller.js';

/** Legal holds and the right to erasure, for admins. */
@Module({ controllers: [AuditPrivacyController] })
export class AuditPrivacyModule {}
