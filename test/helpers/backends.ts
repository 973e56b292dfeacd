// PostgreSQL and Redis for the backend tests: CI exports their URLs (.ci/run); elsewhere the
// tests skip with a one-line reason.
import crypto from 'node:crypto';
export const PG_URL = process.env.FACEVAULT_TEST_PG ?? '';
export const REDIS_URL = process.env.FACEVAULT_TEST_REDIS ?? '';
export const pgSkipReason = 'PostgreSQL tests skipped: FACEVAULT_TEST_PG is not set';
export const redisSkipReason = 'Redis tests skipped: FACEVAULT_TEST_REDIS is not set';
/** Each test run gets its own schema so runs never see each other's rows. */
export const freshPgSchema = () => `t_${crypto.randomBytes(6).toString('hex')}`;
