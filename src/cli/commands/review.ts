/**
 * `vouch review [REF... | --release FILE | --session FILE | --demo] [--baseline REF|SBOM|APPROVAL]
 * [--policy FILE] [--trust FILE]`: the review workbench (src/tui) over a review
 * session (src/core/review). `--release` creates the session next to the
 * release (`<name>-<version>.review.json`, as `vouch session init`) or reopens
 * it; `--session` reopens one; image references get an ad-hoc session (and a
 * generated release file) in the cache directory; `--demo` reviews the built-in
 * demo release with its session in the demo folder. The session's lock is
 * taken before the workbench starts, so a second vouch on the same session
 * exits 2 ("in use by PID … since …") with the terminal untouched. Every
 * annotation is saved at once; Approve signs with the preferences' signing key
 * (the demo key for the demo when none is set) next to the session. Needs a
 * terminal: without one it exits 2 and names the headless commands.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { defaultCacheDir } from '../../core/cache/cache.js';
import { VouchError } from '../../core/errors.js';
import { defaultSessionPath, loadReleaseFile, type ReleaseFile } from '../../core/review/release.js';
import { readSessionFile, SessionWriter, writeDurable } from '../../core/review/store.js';
import type { FileDigest, ReviewSession } from '../../core/review/types.js';
import { sanitizeLine } from '../../core/util/sanitize.js';
import { LocalFileError, readLocalFile } from '../../core/util/local-file.js';
import { collect, parsePlatform } from '../options.js';
import type { CliIo } from '../io.js';
import type { ReviewModel } from '../../tui/model.js';
import type { SigningKey } from '../../tui/store-port.js';

export interface ReviewFlags {
  demo?: boolean;
  release?: string;
  baseline?: string;
  policy?: string;
  trust?: string;
  session?: string;
  platform?: string;
  insecureRegistry?: string[];
}

export const HEADLESS_HINT =
  'review needs an interactive terminal (stdin and stdout must be a TTY); without one, use the headless commands: vouch session init, vouch annotate, vouch approve, vouch inspect, vouch sbom, vouch chain, vouch check, vouch diff (each takes --json)';

/** Where the review's session lives and what it is built from. */
export interface SessionPlan {
  /** The session file. */
  path: string;
  /** The release file it is (re)built from; null: take the one the session records. */
  release: string | null;
  /** The demo's own key signs when the preferences name none. */
  demoKey?: SigningKey;
  /** Said loudly before the workbench and after it (a release file accepted although it changed since the session was made). */
  notes?: string[];
}

/**
 * What a release file says differently from the session made from an earlier version of it (images,
 * policy, trust, baseline); empty when only comments or formatting changed.
 */
export function releaseChanges(session: ReviewSession, release: ReleaseFile): string[] {
  const out: string[] = [];
  const q = (x: string | null | undefined): string => (x ? sanitizeLine(x) : '(none)');
  const had = new Map(session.images.map((i) => [i.key, i.reference]));
  for (const im of release.images) {
    const before = had.get(im.key);
    if (before === undefined) out.push(`image ${q(im.key)} added (${q(im.reference)})`);
    else if (before !== im.reference) out.push(`image ${q(im.key)}: ${q(before)} → ${q(im.reference)}`);
  }
  for (const key of had.keys()) if (!release.images.some((i) => i.key === key)) out.push(`image ${q(key)} removed`);
  if ((session.policy.path ?? undefined) !== release.policy) out.push(`policy: ${q(session.policy.path)} → ${q(release.policy)}`);
  if (session.trust.path !== release.trust) out.push(`trust: ${q(session.trust.path)} → ${q(release.trust)}`);
  if ((session.baseline?.path ?? undefined) !== release.baseline) out.push(`baseline: ${q(session.baseline?.path)} → ${q(release.baseline)}`);
  return out;
}

/** A release key for a reference: its last path segment without transport, tag or digest (`oci:./build/api:1` → `api`). */
function imageKey(ref: string): string {
  const bare = ref.replace(/^[a-z-]+:(\/\/)?/, '').replace(/@sha256:[0-9a-f]+$/, '');
  const last = bare.replace(/\/+$/, '').split('/').pop() ?? '';
  return last.replace(/:[^:]*$/, '').replace(/\.(tar|tgz)$/, '').replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[^A-Za-z0-9]+/, '').slice(0, 40) || 'image';
}

/** An ad-hoc review of image references: a generated release file (and its session) in the cache directory, one per set of references. */
async function adHocRelease(refs: string[], flags: ReviewFlags, cacheDir: string): Promise<string> {
  const id = createHash('sha256').update(JSON.stringify([refs.map((r) => resolve(r) === r || existsSync(r) ? resolve(r) : r), flags.trust ?? null, flags.policy ?? null, flags.baseline ?? null, flags.platform ?? null])).digest('hex').slice(0, 16);
  const dir = join(cacheDir, 'sessions', id);
  await mkdir(dir, { recursive: true });
  const keys = new Set<string>();
  const images = refs.map((ref) => {
    let key = imageKey(ref);
    for (let n = 2; keys.has(key); n++) key = `${key.replace(/-\d+$/, '')}-${n}`;
    keys.add(key);
    // Paths are absolute here: the release file lives in the cache, not beside the image.
    const abs = /^(oci|oci-archive|docker-archive):/.test(ref) ? ref.replace(/^([a-z-]+):([^:@]+)/, (_m, t: string, p: string) => `${t}:${resolve(p)}`) : existsSync(ref) ? resolve(ref) : ref;
    return [key, abs] as const;
  });
  let trust = flags.trust ? resolve(flags.trust) : existsSync('vouch.trust.yaml') ? resolve('vouch.trust.yaml') : null;
  if (!trust) {
    trust = join(dir, 'vouch.trust.yaml');
    await writeDurable(trust, '# Ad-hoc review without a trust file: nobody\'s signatures count and nobody can approve.\nversion: 1\n');
  }
  const yaml = [
    '# Generated by vouch review for an ad-hoc review of image references (no release file).',
    'name: review',
    `version: ${id}`,
    'images:',
    ...images.map(([k, r]) => `  ${k}: ${JSON.stringify(r)}`),
    `trust: ${JSON.stringify(trust)}`,
    ...(flags.policy ? [`policy: ${JSON.stringify(resolve(flags.policy))}`] : []),
    ...(flags.baseline && /\.sigstore\.json$/.test(flags.baseline) ? [`baseline: ${JSON.stringify(resolve(flags.baseline))}`] : []),
  ].join('\n');
  const path = join(dir, 'vouch.release.yaml');
  await writeDurable(path, `${yaml}\n`);
  return path;
}

/**
 * A trust or policy file named by the session file itself (no --trust/--policy, no release file): the session
 * can be edited by anyone who can push to where it lives, so the file it names is used only if its bytes are
 * the ones the session recorded. A relative path is the session folder's.
 */
async function sessionFile(f: FileDigest, sessionPath: string, what: 'trust' | 'policy'): Promise<string> {
  const file = resolve(dirname(sessionPath), f.path);
  let digest: string;
  try {
    digest = `sha256:${createHash('sha256').update(await readLocalFile(file, { what, max: 1 << 20 })).digest('hex')}`;
  } catch (e) {
    throw new VouchError('USAGE', `review: ${sessionPath}: ${what}.path: cannot read ${sanitizeLine(file)} (${(e as LocalFileError).reason ?? 'error'}); pass --${what} FILE`);
  }
  if (digest !== f.digest) throw new VouchError('USAGE', `review: ${sessionPath}: ${what}.path: ${sanitizeLine(file)} is not the ${what} file the session recorded (sha256 differs); pass --${what} FILE`);
  return file;
}

/** What the workbench loads, and the session it writes to (the demo release is generated on first use). */
export async function reviewRequest(refs: string[], flags: ReviewFlags, cacheDir = defaultCacheDir()): Promise<{ start: import('../../tui/run.js').ReviewStart; plan: SessionPlan }> {
  const base = {
    ...(flags.platform ? { platform: parsePlatform(flags.platform) } : {}),
    ...(flags.insecureRegistry?.length ? { insecureRegistries: flags.insecureRegistry } : {}),
  };
  const given = [flags.demo && '--demo', flags.release && '--release', refs.length && 'image references'].filter(Boolean);
  if (given.length > 1) throw new VouchError('USAGE', `review: give one of --demo, --release FILE, --session FILE or image references (got ${given.join(' and ')})`);
  let releasePath: string | null = null;
  let demoKey: SigningKey | undefined;
  if (flags.demo) {
    const { ensureDemoRelease } = await import('../../core/demo/demo-release.js');
    const demo = await ensureDemoRelease(cacheDir);
    releasePath = demo.releaseFile;
    demoKey = { path: demo.reviewerKey, passphrase: demo.reviewerPassphrase };
  } else if (flags.release) releasePath = flags.release;
  else if (refs.length) releasePath = await adHocRelease(refs, flags, cacheDir);
  else if (!flags.session) throw new VouchError('USAGE', 'review: give an image reference (or several), --release FILE, --session FILE, or --demo');

  let release: ReleaseFile | null = releasePath ? await loadReleaseFile(releasePath) : null;
  const path = resolve(flags.session ?? defaultSessionPath(release!));
  // A session that exists is reviewed on its pinned digests; a new one on what the release names now.
  const existing: ReviewSession | null = existsSync(path) ? await readSessionFile(path) : null;
  if (!existing && !release) throw new VouchError('USAGE', `review: --session: ${path} does not exist; give --release FILE (or --demo) to create it there`);
  const notes: string[] = [];
  if (!release && existing) {
    const recorded = existing.release.file;
    release = existsSync(recorded.path) ? await loadReleaseFile(recorded.path) : null;
    // The session names its release file, not its contents: an edit since (another image, policy or trust file)
    // would be reviewed, and approved, under the old session's name. Only an explicit --release accepts it.
    if (release && release.digest !== recorded.digest) {
      throw new VouchError('DIGEST_MISMATCH', `review: ${sanitizeLine(release.path)} changed since the session ${path} was made (recorded ${recorded.digest}, now ${release.digest}); pass --release ${sanitizeLine(release.path)} to review against the changed file`);
    }
  } else if (release && existing && release.digest !== existing.release.file.digest) {
    const changes = releaseChanges(existing, release);
    notes.push(`the release file ${sanitizeLine(release.path)} changed since the session was made (${existing.release.file.digest} → ${release.digest}): ${changes.length ? changes.join('; ') : 'the same images, policy, trust and baseline (comments or layout only)'}; the session now records the new file`);
  }
  if (existing && release) {
    // The screens show the session's pinned references: an edited pin would show another image under its name.
    const { pinnedMismatches } = await import('../../core/review/session.js');
    const bad = pinnedMismatches(existing, release);
    if (bad.length) throw new VouchError('DIGEST_MISMATCH', `review: ${path}: ${bad[0]}; start a new session (vouch session init --release ${release.path})`);
  }
  const images = existing ? existing.images.map((i) => ({ key: i.key, ref: i.pinned })) : release!.images.map((i) => ({ key: i.key, ref: i.reference }));
  const trustFile = flags.trust ?? release?.trust ?? (existing ? await sessionFile(existing.trust, path, 'trust') : undefined);
  const adHocTrust = refs.length > 0 && !flags.trust && trustFile !== undefined && !existsSync('vouch.trust.yaml');
  const policyFile = flags.policy ?? release?.policy ?? (existing?.policy.path ? await sessionFile(existing.policy as FileDigest, path, 'policy') : undefined);
  const baseline = flags.baseline ?? release?.baseline ?? existing?.baseline?.path;
  return {
    start: {
      refs: images.map((i) => i.ref),
      opts: {
        ...base,
        release: existing ? { name: existing.release.name, version: existing.release.version } : { name: release!.name, version: release!.version },
        names: images.map((i) => i.key),
        // An ad-hoc review without a trust file reads signatures as `vouch check` does without one.
        ...(trustFile && !adHocTrust ? { trustFile } : {}),
        ...(policyFile ? { policyFile } : {}),
        ...(baseline ? { baseline } : {}),
      },
    },
    plan: { path, release: release?.path ?? null, ...(demoKey ? { demoKey } : {}), ...(notes.length ? { notes } : {}) },
  };
}

/**
 * The session for writing: its lock is taken now (a second vouch is refused here, before any UI),
 * while building a new session or refreshing an existing one waits until the analysis process has
 * filled the cache (`ready`), so the images are not analysed twice at once.
 */
async function openSession(plan: SessionPlan, opts: { insecureRegistries?: string[] }): Promise<{ ready(): Promise<{ writer: SessionWriter; warnings: string[]; refreshed: boolean }>; close(): Promise<void> }> {
  const ropts = { ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}) };
  let writer: SessionWriter | null = null;
  if (existsSync(plan.path)) {
    writer = await SessionWriter.open(plan.path);
    const w = writer;
    // The images are in the cache already (the session was made from them): refresh alongside the analysis process.
    const refreshed = (async () => {
      const { refreshSession } = await import('../../core/review/session.js');
      const warnings: string[] = [];
      let refreshed = false;
      if (plan.release ?? existsSync(w.session.release.file.path)) {
        // As `vouch session init` on an existing file: the automated part again on the pinned digests; annotations kept.
        const fresh = await refreshSession(w.session, plan.release ?? w.session.release.file.path, ropts);
        await w.update((cur) => void Object.assign(cur, { ...fresh, annotations: cur.annotations }));
        warnings.push(...fresh.warnings);
        const { checkPins, pinLines } = await import('../../core/review/pin-journal.js');
        for (const line of pinLines((await checkPins(plan.path, w.session)).changed)) warnings.push(`WARNING: ${line}; the file was replaced or edited, and Approve will refuse it`);
        refreshed = true;
      } else warnings.push(`WARNING: the release file ${w.session.release.file.path} is gone: the session's results were not refreshed`);
      return { writer: w, warnings, refreshed };
    })();
    refreshed.catch(() => {});
    return {
      ready: () => refreshed,
      close: () => w.close(),
    };
  }
  let go!: () => void;
  const build = new Promise<void>((r) => (go = r));
  let locked!: () => void;
  const lockTaken = new Promise<void>((r) => (locked = r));
  const creating = SessionWriter.create(plan.path, async () => {
    locked();
    await build;
    const { createSession } = await import('../../core/review/session.js');
    return createSession(plan.release!, ropts);
  });
  creating.catch(() => {});
  await Promise.race([lockTaken, creating]);
  return {
    async ready() {
      go();
      writer = await creating;
      // This machine's record of what it pinned (pin-journal.ts): Approve refuses the file if its pins are swapped later.
      const { recordPins } = await import('../../core/review/pin-journal.js');
      await recordPins(plan.path, writer.session);
      return { writer, warnings: [], refreshed: true };
    },
    async close() {
      go();
      await (writer ?? (await creating.catch(() => null)))?.close();
    },
  };
}

export async function runReview(refs: string[], flags: ReviewFlags, io: CliIo, tty = { stdin: process.stdin.isTTY === true, stdout: process.stdout.isTTY === true }): Promise<number> {
  if (!tty.stdin || !tty.stdout) {
    io.err(`vouch: ${HEADLESS_HINT}\n`);
    return 2;
  }
  // Ink reads CI / CONTINUOUS_INTEGRATION once, when it loads (is-in-ci), and then writes only the last
  // frame at exit: at a real terminal that is a blank screen. The reviewer is at a terminal (checked above).
  delete process.env.CI;
  delete process.env.CONTINUOUS_INTEGRATION;
  const { start, plan } = await reviewRequest(refs, flags);
  const session = await openSession(plan, flags.insecureRegistry?.length ? { insecureRegistries: flags.insecureRegistry } : {});
  const warnings: string[] = (plan.notes ?? []).map((n) => `WARNING: ${n}`);
  // The analysis process starts first; the UI loads meanwhile (both take a while, they overlap).
  const { loadInWorker } = await import('../../tui/worker-client.js');
  const loader = loadInWorker(start);
  try {
    const { runWorkbench } = await loadUi();
    const makePort = async (model: ReviewModel, author: string) => {
      // Loaded after the first frame: the signing and verification libraries are not needed to draw it.
      const [{ StoreSessionPort }, { openPreferences }] = await Promise.all([import('../../tui/store-port.js'), import('../../tui/preferences.js')]);
      const { writer, warnings: w, refreshed } = await session.ready();
      warnings.push(...w);
      for (const im of writer.session.images) {
        const shown = model.images.find((m) => m.name === im.key);
        if (shown && shown.digest !== im.digest) warnings.push(`WARNING: ${im.key}: the workbench shows ${shown.digest}, the session pinned ${im.digest}`);
        if (!shown) warnings.push(`WARNING: ${im.key}: the release file now names it, but the workbench does not show it; Approve is refused until you reopen the workbench`);
      }
      model.warnings.push(...warnings.map((x) => sanitizeLine(x)));
      const key = (openPreferences().get('signing.key' as never) as unknown as string | undefined) ?? null;
      return new StoreSessionPort({ writer, model, author, signingKey: key ? { path: key } : (plan.demoKey ?? null), refreshed, ...(plan.release ? { releasePath: plan.release } : {}), ...(flags.trust ? { trustPath: flags.trust } : {}), ...(flags.insecureRegistry?.length ? { insecureRegistries: flags.insecureRegistry } : {}) });
    };
    const code = await runWorkbench({ ...start, ...(process.env.VOUCH_TUI_TIMING ? { timingFile: process.env.VOUCH_TUI_TIMING } : {}) }, loader, makePort);
    io.err(`vouch: session ${plan.path}\n`);
    return code;
  } finally {
    loader.cancel();
    await session.close();
    // Loud after the alternate screen is gone, too.
    for (const w of warnings) io.err(`vouch: ${sanitizeLine(w)}\n`);
  }
}

/** The UI: the esbuild bundle (dist/tui/run.js, one module) when it was built, else the compiled modules. */
async function loadUi(): Promise<typeof import('../../tui/run.js')> {
  if (!process.env.VOUCH_TUI_NO_BUNDLE) {
    try {
      const bundle = new URL('../../../tui/run.js', import.meta.url).href;
      return (await import(bundle)) as typeof import('../../tui/run.js');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    }
  }
  return import('../../tui/run.js');
}

export function registerReview(program: Command, io: CliIo): void {
  program
    .command('review')
    .description('the review workbench: layers, packages, diff, chain, checks, findings and approval of a release, in the terminal')
    .argument('[ref...]', 'image references (docker://, oci:, oci-archive:, docker-archive:, docker-daemon:, or a bare path / name)')
    .option('--demo', 'review the built-in demo release (generated on first use; no Docker, registry or network)')
    .option('--release <file>', 'release file (vouch.release.yaml): creates or reopens its session (<name>-<version>.review.json beside it)')
    .option('--baseline <ref|sbom|approval>', 'the last approved release to diff against (image reference, SBOM or approval record; default: the release file\'s baseline)')
    .option('--policy <file>', 'policy file (default: the built-in policy)')
    .option('--trust <file>', 'trust file (default: ./vouch.trust.yaml when present)')
    .option('--session <file>', 'review session file to reopen (or to create, with --release)')
    .option('--platform <os/arch[/variant]>', "platform to pick from multi-platform images (default: the host's)")
    .option('--insecure-registry <host>', 'allow plain HTTP to this registry (repeatable); loopback is always allowed', collect)
    .action(async (refs: string[], flags: ReviewFlags) => {
      io.setExitCode(await runReview(refs, flags, io));
    });
}
