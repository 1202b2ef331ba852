// Preloaded by scripts/run-tests.mjs under CI=true: every fast-check property runs from
// one fixed seed, so a red CI is reproducible and never depends on luck. Developer runs
// keep fresh seeds (fast-check prints the seed and path of any failure) to keep exploring.
import fc from 'fast-check';

const seed = Number(process.env.VOUCH_FC_SEED ?? 20_261_207);
if (!Number.isSafeInteger(seed)) throw new Error(`VOUCH_FC_SEED: not an integer: ${process.env.VOUCH_FC_SEED}`);
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
