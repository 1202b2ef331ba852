/**
 * Regenerates screenshots/review-*.png: `vouch review --demo` in a real
 * terminal (tmux, 120×40), one capture per screen (tmux capture-pane -e →
 * aha → headless Chromium). Run through `npm run screenshots` (which builds
 * first). Needs tmux, aha and chromium.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tmux } from '../test/tui/tmux.js';

const root = fileURLToPath(new URL('..', import.meta.url));
for (const bin of ['tmux', 'aha', 'chromium']) {
  if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) {
    console.error(`screenshots: ${bin} is not installed`);
    process.exit(2);
  }
}
const work = mkdtempSync(join(tmpdir(), 'vouch-shots-'));
const cols = 120;
const rows = 40;
const tm = new Tmux(`vouch-shots-${process.pid}`, cols, rows);

function png(name: string): void {
  const ansi = tm.screen(true);
  const html = execFileSync('aha', ['--no-header', '--black'], { input: ansi, encoding: 'utf8' });
  const page = `<html><head><meta charset="utf-8"><style>body{background:#000;margin:0;padding:12px}pre{font:14px/1.25 "DejaVu Sans Mono",monospace;color:#ddd;margin:0}</style></head><body><pre>${html}</pre></body></html>`;
  const file = join(work, `${name}.html`);
  writeFileSync(file, page);
  execFileSync('chromium', [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    `--user-data-dir=${join(work, 'chrome')}`,
    '--hide-scrollbars',
    `--window-size=${cols * 9 + 30},${rows * 18 + 30}`,
    `--screenshot=${join(root, 'screenshots', `${name}.png`)}`,
    `file://${file}`,
  ], { stdio: 'ignore' });
  console.log(`screenshots/${name}.png`);
}

try {
  mkdirSync(join(root, 'screenshots'), { recursive: true });
  const env = { VOUCH_CACHE_DIR: join(work, 'cache'), VOUCH_CONFIG_DIR: join(work, 'config'), TERM: 'xterm-256color' };
  const cli = `'${process.execPath}' '${join(root, 'dist/src/cli/main.js')}'`;
  tm.start(`${cli} config set reviewer.name 'Rita Reviewer' && unset NO_COLOR && ${cli} review --demo`, env);
  await tm.waitFor(/Release shop 2\.4\.0/, 180_000);
  png('review-1-overview');
  await tm.press(/MERGED FILESYSTEM/, '2');
  await tm.press(/·   merged/, 'l');
  png('review-2-layers');
  await tm.press(/NAME \(sort/, '3');
  await tm.press(/lodash/, 'G');
  tm.keys('k', 'k', 'k');
  await new Promise((r) => setTimeout(r, 500));
  png('review-3-packages');
  await tm.press(/DOWNGRADE/, '4');
  png('review-4-diff');
  await tm.press(/signature #1 cosign/, '5');
  png('review-5-chain');
  await tm.press(/Least privilege — \d+ failing/, '6');
  tm.keys('j', 'j', 'j', 'j', 'j', 'j');
  await new Promise((r) => setTimeout(r, 500));
  png('review-6-checks');
  await tm.press(/DISPOSITION/, '7');
  await tm.press(/subject:/, 'j', 'j', 'j', 'a');
  await tm.press(/disposition: must-fix/, 'Enter');
  await tm.type('setuid helper must go before release');
  await tm.press(/annotated/, 'Enter');
  png('review-7-findings');
  await tm.press(/approved +\d+ blockers/, '8');
  png('review-8-approve');
  await tm.press(/Keys \(Esc or \? closes\)/, '?');
  png('review-help');
  tm.keys('Escape', 'q');
} finally {
  tm.kill();
  rmSync(work, { recursive: true, force: true });
}
