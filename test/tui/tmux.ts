/** Drive a program in a real terminal: a detached tmux session of a fixed size, keys in, the screen out. */
import { execFileSync, spawnSync } from 'node:child_process';

export function hasTmux(): boolean {
  return spawnSync('tmux', ['-V']).status === 0;
}

export class Tmux {
  constructor(
    readonly name: string,
    readonly cols: number,
    readonly rows: number,
  ) {}

  /** Start `command` (a shell line) in the session; the pane stays open after it ends, showing __exit CODE. */
  start(command: string, env: Record<string, string> = {}): void {
    this.kill();
    const exports = Object.entries(env)
      .map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}';`)
      .join(' ');
    execFileSync('tmux', ['new-session', '-d', '-s', this.name, '-x', String(this.cols), '-y', String(this.rows), `${exports} ${command}; echo __exit $?; sleep 600`]);
  }

  /** Keys as tmux names them (Enter, Escape, Tab, BTab, Down…) or literal text with `literal`. */
  keys(...keys: string[]): void {
    for (const k of keys) execFileSync('tmux', ['send-keys', '-t', this.name, k]);
  }

  /** Type text that the program does not echo (a passphrase): sent literally, nothing awaited. */
  typeHidden(text: string): void {
    execFileSync('tmux', ['send-keys', '-t', this.name, '-l', text]);
  }

  /** Type text and wait until it is on screen (so a following Enter arrives on its own, not glued to the text). */
  async type(text: string): Promise<void> {
    execFileSync('tmux', ['send-keys', '-t', this.name, '-l', text]);
    await this.waitFor(new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    // Let React settle on the new value before a following Enter (under load an Enter right behind the text was seen to be lost).
    await new Promise((r) => setTimeout(r, 300));
  }

  /** The visible screen; with `escapes`, its colours as escape sequences (for screenshots). */
  screen(escapes = false): string {
    return execFileSync('tmux', ['capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', this.name], { encoding: 'utf8' });
  }

  /** Wait until the screen matches; throws with the last screen when it does not within `ms`. */
  async waitFor(re: RegExp, ms = 60_000): Promise<string> {
    const t0 = Date.now();
    let s = '';
    while (Date.now() - t0 < ms) {
      s = this.screen();
      if (re.test(s)) return s;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`tmux ${this.name}: ${re} did not appear within ${ms} ms; screen:\n${s}`);
  }

  /** Press keys and wait for what they should bring up. */
  async press(re: RegExp, ...keys: string[]): Promise<string> {
    this.keys(...keys);
    return this.waitFor(re);
  }

  kill(): void {
    spawnSync('tmux', ['kill-session', '-t', this.name]);
  }
}
