import { Module } from '@nestjs/common';
import { PolicyModule } from '@enclave/policy';
import { MyUsageController } from './my-usage.controller.js';

/** Each user's own usage, for the chat UI's "My usage" view. */
@Module({ imports: [PolicyModule], controllers: [MyUsageController] })
export class UsageModule {}
