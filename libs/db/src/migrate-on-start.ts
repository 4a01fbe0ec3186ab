import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { type Config, InjectConfig } from '@enclave/config';
import { DataSource } from 'typeorm';
import { runMigrations } from './migrate.js';

@Injectable()
export class MigrateOnStart implements OnModuleInit {
  private readonly log = new Logger('Migrations');

  constructor(
    private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: Config,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.config.database.migrateOnStart) return;
    const applied = await runMigrations(this.dataSource);
    if (applied.length) this.log.log({ applied }, 'migrations applied');
  }
}
