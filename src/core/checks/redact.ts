/** Redaction lives in one module for every command: src/core/util/redact.ts. */
export { REDACTED, looksLikeSecretValue, isSecretName, isPlaceholderValue, redactLine } from '../util/redact.js';
