/**
 * A signing key's passphrase: VOUCH_KEY_PASSWORD, else asked on the terminal
 * without echo. Without a terminal (CI, a pipe) nothing is asked: the error
 * names the variable. The streams are parameters so that the prompt is tested
 * with fake ones (test/unit/passphrase-prompt.test.ts).
 */
import { VouchError } from '../core/errors.js';

/** What the prompt needs of stdin: a terminal it can put in raw mode and read keys from. */
export interface PromptInput {
  isTTY?: boolean;
  isRaw?: boolean;
  setRawMode?(mode: boolean): unknown;
  on(event: 'data', f: (d: Buffer | string) => void): unknown;
  on(event: 'end', f: () => void): unknown;
  off(event: 'data', f: (d: Buffer | string) => void): unknown;
  off(event: 'end', f: () => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

export interface PromptOutput {
  isTTY?: boolean;
  write(s: string): unknown;
}

export interface PassphraseStreams {
  input: PromptInput;
  output: PromptOutput;
  env: NodeJS.ProcessEnv;
}

const processStreams = (): PassphraseStreams => ({ input: process.stdin, output: process.stderr, env: process.env });

/**
 * One line typed without echo: Enter ends it, Backspace deletes, Ctrl-U clears, Ctrl-C (or Ctrl-D on an
 * empty line, or the end of input) cancels; escape sequences (arrows) are ignored. The terminal's mode is
 * restored whatever happens.
 */
export function askHidden(input: PromptInput, output: PromptOutput, question: string, purpose: string): Promise<string> {
  return new Promise((resolve, reject) => {
    output.write(question);
    const wasRaw = input.isRaw === true;
    input.setRawMode?.(true);
    input.resume();
    let buf = '';
    const finish = (): void => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.setRawMode?.(wasRaw);
      input.pause();
      output.write('\n');
    };
    const cancel = (): void => {
      finish();
      reject(new VouchError('USAGE', `${purpose}: cancelled, no passphrase given`));
    };
    function onEnd(): void {
      cancel();
    }
    function onData(d: Buffer | string): void {
      const text = typeof d === 'string' ? d : d.toString('utf8');
      for (const ch of text) {
        if (ch === '\r' || ch === '\n') {
          finish();
          resolve(buf);
          return;
        }
        if (ch === '\u0003' || (ch === '\u0004' && buf === '')) return cancel();
        if (ch === '\u007f' || ch === '\b') buf = [...buf].slice(0, -1).join('');
        else if (ch === '\u0015') buf = '';
        else if (ch === '\u001b') break; // an arrow or function key: the rest of this chunk is its sequence
        else if (ch >= ' ') buf += ch;
      }
    }
    input.on('data', onData);
    input.on('end', onEnd);
  });
}

/**
 * VOUCH_KEY_PASSWORD, else a prompt on the terminal (never echoed; with `confirm`, typed twice); with no
 * terminal on stdin or stderr and no variable, a usage error (exit 2) that names the variable.
 */
export async function readPassphrase(purpose: string, confirm = false, streams: PassphraseStreams = processStreams()): Promise<string> {
  const env = streams.env.VOUCH_KEY_PASSWORD;
  if (env !== undefined) return env;
  const { input, output } = streams;
  if (!input.isTTY || !output.isTTY || !input.setRawMode) throw new VouchError('USAGE', `${purpose}: set VOUCH_KEY_PASSWORD to the key's passphrase (no terminal to ask for it on)`);
  const first = await askHidden(input, output, `${purpose}: passphrase: `, purpose);
  if (confirm && (await askHidden(input, output, `${purpose}: passphrase again: `, purpose)) !== first) throw new VouchError('USAGE', `${purpose}: the passphrases differ`);
  return first;
}
