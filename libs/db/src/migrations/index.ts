import { Settings1764201600000 } from './1764201600000-settings.js';

/**
 * The one ordered list of migrations, for every lib's tables. A landed migration is never edited:
 * add a new one at the end.
 */
export const MIGRATIONS = [Settings1764201600000];
