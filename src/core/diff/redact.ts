/** Redaction lives in one module for every command: src/core/util/redact.ts. */
export { REDACTED, looksLikeSecretValue, isSecretEnv, redactEnvValue, redactLabelValue } from '../util/redact.js';
