/**
 * Checks that need file contents, without a second read of any layer:
 *
 *   scanners  secretsCataloger, accountsCataloger — catalogers in DEFAULT_CATALOGERS,
 *             run inside each layer's single streaming pass; findings cached with the walk
 *   facts     contentFacts(walks, catalogs, merged) — per image, from those cached findings
 *   checks    CONTENT_CHECKS — VCH-SC-001..003 (secrets), VCH-AC-001..005 (accounts), reading ctx.facts
 */
export { CONTENT_CHECKS, privateKeyInImage, credentialFileInImage, secretLeftInLayer, emptyPassword, duplicateUid, duplicateGid, duplicateName, extraRootAccount } from './checks.js';
export { contentFacts, type ContentFacts, type LayerSecret, type FinalAccounts, type Removal } from './facts.js';
export { secretsCataloger, scanSecretFile, classifySecretPath, redactedHint, SECRETS_MAX_BYTES } from './secrets-scanner.js';
export { accountsCataloger, parseAccounts, ACCOUNTS_MAX_BYTES } from './accounts-scanner.js';
export * from './types.js';
