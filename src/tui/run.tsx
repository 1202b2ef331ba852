/**
 * Starting the workbench: ask who the reviewer is (first run only), show a
 * progress screen while the analysis process loads the review, then the App.
 * The CLI command (src/cli/commands/review.ts) checks for a terminal first.
 */
import { writeFileSync } from 'node:fs';
import { Box, render, Text, useInput, useStdin, type Instance } from 'ink';
import { ProgressBar, Spinner } from '@inkjs/ui';
import { useRef, useState } from 'react';
import { App } from './app.js';
import type { WorkerMessage, WorkerRequest } from './analysis-worker.js';
import type { WorkerLoad } from './worker-client.js';
import { makeTheme, S, ThemeContext } from './components/text.js';
import { openPreferences, reviewerIdentity, type Preferences } from './preferences.js';
import type { SessionPort } from './session-port.js';
import type { ReviewModel } from './model.js';
import { releaseHeldLocksSync } from '../core/util/held-locks.js';

export interface ReviewStart extends WorkerRequest {
  /** Where to write start-up timings (VOUCH_TUI_TIMING): first frame, first review frame. */
  timingFile?: string;
}

type Progress = Extract<WorkerMessage, { type: 'progress' }>;

function BootView({ title, progress }: { title: string; progress: Progress | null }): React.JSX.Element {
  const p = progress;
  const frac = p?.bytesTotal ? p.bytesDone! / p.bytesTotal : null;
  return (
    <Box flexDirection="column" padding={1}>
      <S tone="accent" bold>{`vouch review · ${title}`}</S>
      <Spinner label={p?.what ?? 'starting the analysis'} />
      {frac !== null ? (
        <Box flexDirection="column">
          <Box width={50}>
            <ProgressBar value={Math.round(frac * 100)} />
          </Box>
          <Text>{`layers ${p!.layersDone}/${p!.layersTotal} · ${(p!.bytesDone! / 1048576).toFixed(1)} of ${(p!.bytesTotal! / 1048576).toFixed(1)} MiB`}</Text>
        </Box>
      ) : null}
      <S tone="dim">{'analysis runs in a separate process; q quits'}</S>
    </Box>
  );
}

/**
 * The first-run prompt: name, then email, as plain lines. A chunk may hold more than one key (a paste, a
 * fast typist, tmux send-keys "Bob" Enter): each Enter in it submits the field and the rest goes to the next
 * one, and control characters never reach a field (the preference store refuses them).
 */
export function IdentityPrompt({ onDone }: { onDone(name: string, email: string): void }): React.JSX.Element {
  const [view, setView] = useState({ name: '', email: '', step: 0 as 0 | 1 });
  const state = useRef(view);
  const done = useRef(false);
  const { isRawModeSupported } = useStdin();
  useInput(
    (input, key) => {
      if (done.current) return;
      const f = { ...state.current };
      const field = f.step === 0 ? 'name' : 'email';
      if (key.backspace || key.delete) f[field] = [...f[field]].slice(0, -1).join('');
      else {
        for (const ch of key.return ? '\r' : input) {
          const at = f.step === 0 ? 'name' : 'email';
          if (ch === '\r' || ch === '\n') {
            if (f.step === 0 && f.name.trim()) f.step = 1;
            else if (f.step === 1) {
              done.current = true;
              onDone(f.name.trim(), f.email.trim());
              return;
            }
          } else if (!/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/u.test(ch)) f[at] += ch;
        }
      }
      state.current = f;
      setView(f);
    },
    { isActive: isRawModeSupported === true },
  );
  return (
    <Box flexDirection="column" padding={1}>
      <S tone="accent" bold>{'vouch review · first run'}</S>
      <S>{'Annotations and approvals carry the reviewer identity. Asked once; change it with `vouch config set`.'}</S>
      {view.step === 0 ? (
        <Box key="name">
          <Text>{'Your name: '}</Text>
          {view.name ? <S>{`${view.name}█`}</S> : <S tone="dim">{'█ Rita Reviewer'}</S>}
        </Box>
      ) : (
        <Box key="email">
          <S>{`Name: ${view.name}   Email: `}</S>
          {view.email ? <S>{`${view.email}█`}</S> : <S tone="dim">{'█ rita@example.com'}</S>}
        </Box>
      )}
    </Box>
  );
}

/** Ask for the reviewer identity when the preferences have none. */
async function ensureIdentity(): Promise<string> {
  const prefs = openPreferences();
  const known = reviewerIdentity(prefs);
  if (known) return known;
  return new Promise((resolve) => {
    let named = false;
    const ink = render(
      <IdentityPrompt
        onDone={(name, email) => {
          named = true;
          prefs.set('reviewer.name' as keyof Preferences, name as never);
          if (/^[^\s@]+@[^\s@]+$/.test(email)) prefs.set('reviewer.email' as keyof Preferences, email as never);
          ink.unmount();
          resolve(reviewerIdentity(prefs)!);
        }}
      />,
    );
    // Ctrl-C at the prompt (Ink unmounts): an interruption, exit 130, and the session lock taken for this run goes.
    void ink.waitUntilExit().then(() => {
      if (named) return;
      releaseHeldLocksSync();
      process.exit(130);
    });
  });
}

function Quitter({ onQuit, children }: { onQuit(): void; children: React.ReactNode }): React.JSX.Element {
  const { isRawModeSupported } = useStdin();
  useInput((input) => input === 'q' && onQuit(), { isActive: isRawModeSupported === true });
  return <>{children}</>;
}

/**
 * Run the workbench until the reviewer quits. Resolves with the exit code. `makePort` gives the
 * session (the command's StoreSessionPort); the progress screen stays up while it gets ready.
 */
export async function runWorkbench(start: ReviewStart, loader: WorkerLoad, makePort: (model: ReviewModel, author: string) => SessionPort | Promise<SessionPort>): Promise<number> {
  const author = await ensureIdentity();
  const prefs = openPreferences();
  const theme = makeTheme(prefs.get('theme' as keyof Preferences) === ('no-color' as never) ? { ...process.env, NO_COLOR: '1' } : process.env);
  const timings: Record<string, number> = {};
  const mark = (k: string): void => {
    timings[k] ??= Math.round(performance.now());
    if (start.timingFile) writeFileSync(start.timingFile, JSON.stringify(timings));
  };
  // The alternate screen: the reviewer's scrollback is untouched when the workbench quits.
  process.stdout.write('\x1b[?1049h');
  const restore = (): void => void process.stdout.write('\x1b[?1049l');
  const title = `${start.opts.release?.name ?? start.refs.join(' ')}`;
  let quitEarly = false;
  let ink: Instance | undefined;
  loader.onProgress((p) => ink?.rerender(<Quitter onQuit={quit}><ThemeContext.Provider value={theme}><BootView title={title} progress={p} /></ThemeContext.Provider></Quitter>));
  function quit(): void {
    quitEarly = true;
    loader.cancel();
    ink?.unmount();
  }
  ink = render(
    <Quitter onQuit={quit}>
      <ThemeContext.Provider value={theme}>
        <BootView title={title} progress={null} />
      </ThemeContext.Provider>
    </Quitter>,
  );
  mark('firstFrameMs');
  try {
    const model = await loader.result;
    if (quitEarly) return 0;
    ink.rerender(<Quitter onQuit={quit}><ThemeContext.Provider value={theme}><BootView title={title} progress={{ type: 'progress', what: 'opening the review session' }} /></ThemeContext.Provider></Quitter>);
    const port = await makePort(model, author);
    if (quitEarly) return 0;
    ink.unmount();
    ink = render(<App model={model} port={port} theme={theme} onFirstFrame={() => mark('reviewFrameMs')} />);
    await ink.waitUntilExit();
    return 0;
  } catch (e) {
    if (quitEarly) return 0;
    ink.unmount();
    throw e;
  } finally {
    restore();
  }
}
