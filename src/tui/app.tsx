/**
 * The workbench shell: header (release, images, screen tabs), the active
 * screen, and a status line that is also where the live filter is typed. One
 * useInput reads the key table (keys.ts); global keys are handled here, the
 * rest go to the active screen. useInput is guarded with isRawModeSupported:
 * Ink throws on a piped stdin otherwise.
 */
import { Box, useApp, useInput, useStdin, useStdout, type Key } from 'ink';
import { TextInput, ThemeProvider as UiThemeProvider } from '@inkjs/ui';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { keyMatcher, keyOf, KEYMAP, type Action, type KeyTable } from './keys.js';
import { keyTableFrom, openPreferences } from './preferences.js';
import type { ReviewModel } from './model.js';
import type { Annotation, AnnotationFields, AnnotationSubject, SessionPort } from './session-port.js';
import { COLOURLESS_UI, fit, S, ThemeContext, makeTheme, type Theme } from './components/text.js';
import { AnnotateForm } from './components/annotate-form.js';
import { helpPage, HelpView } from './components/help.js';
import { SCREEN_IDS, ScreenContext, type JumpTarget, type ScreenCtx, type ScreenHandler, type ScreenId } from './context.js';
import { moveCursor, StoreContext, type Store } from './state.js';
import { OverviewScreen } from './screens/overview.js';
import { LayersScreen } from './screens/layers.js';
import { PackagesScreen } from './screens/packages.js';
import { DiffScreen } from './screens/diff.js';
import { ChainScreen } from './screens/chain.js';
import { ChecksScreen } from './screens/checks.js';
import { FindingsScreen } from './screens/findings.js';
import { ApproveScreen } from './screens/approve.js';

export const SCREENS: ReadonlyArray<{ id: ScreenId; title: string; Component: () => React.JSX.Element }> = [
  { id: 'overview', title: 'Overview', Component: OverviewScreen },
  { id: 'layers', title: 'Layers', Component: LayersScreen },
  { id: 'packages', title: 'Packages', Component: PackagesScreen },
  { id: 'diff', title: 'Diff', Component: DiffScreen },
  { id: 'chain', title: 'Chain', Component: ChainScreen },
  { id: 'checks', title: 'Checks', Component: ChecksScreen },
  { id: 'findings', title: 'Findings', Component: FindingsScreen },
  { id: 'approve', title: 'Approve', Component: ApproveScreen },
];

/** Screens whose lists take the `/` filter. */
const FILTERABLE = new Set<ScreenId>(['layers', 'packages', 'diff', 'checks', 'findings']);

export interface AppProps {
  model: ReviewModel;
  port: SessionPort;
  initialScreen?: ScreenId;
  /** Fixed size (tests); default: the terminal's, following resizes. */
  width?: number;
  height?: number;
  theme?: Theme;
  /** Called once the first full frame is on screen (start-up measurement). */
  onFirstFrame?: () => void;
  /** The key table; default: the defaults with the reviewer's overrides from the preferences. */
  keys?: KeyTable;
}

/** The preferences' key table; a store that cannot be read leaves the defaults. */
function preferredKeys(): { table: KeyTable; problem: string | null } {
  try {
    return keyTableFrom(openPreferences());
  } catch (e) {
    return { table: KEYMAP, problem: `key overrides ignored: ${(e as Error).message}` };
  }
}

type Mode =
  | { kind: 'normal' }
  | { kind: 'filter' }
  | { kind: 'help' }
  | { kind: 'annotate'; subject: AnnotationSubject; label: string; existing?: Annotation }
  /** A one-line y/N question in the status line; anything but y keeps things as they are. */
  | { kind: 'confirm'; prompt: string; onYes: () => void };

function useTerminalSize(fixed: { width?: number | undefined; height?: number | undefined }): { width: number; height: number } {
  const { stdout } = useStdout();
  const read = (): { width: number; height: number } => ({ width: fixed.width ?? stdout.columns ?? 80, height: fixed.height ?? stdout.rows ?? 24 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    if (fixed.width !== undefined && fixed.height !== undefined) return;
    const onResize = (): void => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [stdout, fixed.width, fixed.height]);
  return size;
}

/**
 * One input event as the keys a terminal sends one by one: Enter, Tab, Backspace and other control keys
 * apart from the text around them ("\rbecause" → "\r", "because"), and each escape sequence on its own: a
 * held arrow key or a fast typist over SSH sends "\x1b[B\x1b[B\x1b[B" in one chunk, three moves, not one.
 * CSI (ESC [ params final), SS3 (ESC O x), each optionally after a Meta ESC; ESC + one key (Meta); a lone
 * ESC; and text one character at a time ("jjj" typed faster than a frame is three moves).
 */
const KEY_TOKENS = /\x1b{1,2}\[[0-?]*[ -/]*[@-~]|\x1b{1,2}O[\s\S]|\x1b[^\x1b]|\x1b|[\x00-\x1a\x1c-\x1f\x7f]|[^\x00-\x1f\x7f]/gu;

export function splitKeys(data: string): string[] {
  if (data.length < 2) return [data];
  return data.match(KEY_TOKENS) ?? [data];
}

export function App({ model, port, initialScreen = 'overview', width, height, theme, onFirstFrame, keys }: AppProps): React.JSX.Element {
  const { exit } = useApp();
  const { isRawModeSupported, internal_eventEmitter: inputEvents } = useStdin();
  const size = useTerminalSize({ width, height });
  const [screen, setScreen] = useState<ScreenId>(initialScreen);
  const [imageIndex, setImageIndex] = useState(0);
  const [mode, setMode] = useState<Mode>({ kind: 'normal' });
  const [filters, setFilters] = useState<Record<string, string>>({});
  const [annotations, setAnnotations] = useState<Annotation[]>([]);
  const keyInfo = useMemo(() => (keys ? { table: keys, problem: null } : preferredKeys()), [keys]);
  const actionFor = useMemo(() => keyMatcher(keyInfo.table), [keyInfo]);
  const [message, setMessage] = useState(keyInfo.problem ?? '');
  const [capture, setCapture] = useState(false);
  const [helpTop, setHelpTop] = useState(0);
  const [, setTick] = useState(0);
  const store = useRef<Store>(new Map()).current;
  const handler = useRef<ScreenHandler | null>(null);
  // Raw keys typed after the key that opened the annotation form and before the form listens: kept here (in
  // order, from no other listener) and handed to the form when it mounts. null: not collecting.
  const formAhead = useRef<string[] | null>(null);
  const openForm = (m: Extract<Mode, { kind: 'annotate' }>): void => {
    formAhead.current = [];
    setMode(m);
  };
  const themeValue = useMemo(() => theme ?? makeTheme(), [theme]);

  const refresh = useCallback(async () => setAnnotations(await port.load()), [port]);
  useEffect(() => {
    void refresh();
  }, [refresh]);
  useEffect(() => {
    onFirstFrame?.();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const image = model.images[imageIndex]!;
  const filterKey = `${screen}:${imageIndex}`;
  const filter = filters[filterKey] ?? '';

  // Where Esc returns to after jumps (Checks → the file in Layers → Esc → Checks); switching screens by hand forgets it.
  const [trail, setTrail] = useState<Array<{ screen: ScreenId; imageIndex: number }>>([]);
  const jump = useCallback(
    (t: JumpTarget, to?: number) => {
      const target = to ?? imageIndex;
      // Prepare the target screen's state, then switch: it reads the store when it mounts.
      store.set(`jump:${t.screen}:${target}`, t);
      // A filter left on the target screen would hide the subject (the cursor would land on another row): clear it.
      const targetKey = `${t.screen}:${target}`;
      if (filters[targetKey]) {
        setFilters((f) => ({ ...f, [targetKey]: '' }));
        setMessage(`filter "${filters[targetKey]}" cleared to show the subject`);
      }
      setTrail((tr) => [...tr, { screen, imageIndex }]);
      setScreen(t.screen);
      setImageIndex(target);
      setTick((n) => n + 1);
    },
    [store, imageIndex, screen, filters],
  );

  const ctx: ScreenCtx = {
    model,
    image,
    imageIndex,
    width: size.width,
    height: Math.max(3, size.height - 3),
    filter,
    annotations,
    port,
    keys: keyInfo.table,
    handle: (h) => {
      handler.current = h;
    },
    jump,
    openAnnotate: (subject, label, existing) => openForm(existing ? { kind: 'annotate', subject, label, existing } : { kind: 'annotate', subject, label }),
    setCapture,
    confirm: (prompt, onYes) => setMode({ kind: 'confirm', prompt, onYes }),
    refresh,
    say: setMessage,
  };

  const global = (a: Action, input: string): boolean => {
    switch (a) {
      case 'quit':
        exit();
        return true;
      case 'help':
        setHelpTop(0);
        setMode({ kind: 'help' });
        return true;
      case 'back': {
        const last = trail[trail.length - 1];
        if (!last) return false;
        setTrail((tr) => tr.slice(0, -1));
        setScreen(last.screen);
        setImageIndex(last.imageIndex);
        return true;
      }
      case 'nextScreen':
      case 'prevScreen': {
        setTrail([]);
        const i = SCREEN_IDS.indexOf(screen);
        const n = SCREEN_IDS.length;
        setScreen(SCREEN_IDS[(i + (a === 'nextScreen' ? 1 : n - 1)) % n]!);
        return true;
      }
      case 'screen':
        setTrail([]);
        setScreen(SCREEN_IDS[Number(input) - 1]!);
        return true;
      case 'prevImage':
      case 'nextImage': {
        const n = model.images.length;
        setImageIndex((i) => (i + (a === 'nextImage' ? 1 : n - 1)) % n);
        return true;
      }
      case 'filter':
        if (!FILTERABLE.has(screen)) {
          setMessage(`${SCREENS.find((x) => x.id === screen)!.title} has no list to filter (${[...FILTERABLE].map((id) => SCREENS.find((x) => x.id === id)!.title).join(', ')} have)`);
          return true;
        }
        setMode({ kind: 'filter' });
        return true;
      case 'annotate': {
        const s = handler.current?.subject?.();
        if (!s) {
          setMessage('nothing selected to annotate here');
          return true;
        }
        openForm({ kind: 'annotate', subject: s.subject, label: s.label });
        return true;
      }
      default:
        return false;
    }
  };

  // The handler reads this render's state through a ref: Ink re-subscribes useInput in an effect, and a key
  // that arrives before that effect runs must not see the previous render's screen and mode.
  const onKey = useRef<(input: string, key: Key) => void>(() => {});
  onKey.current = (input: string, key: Key): void => {
      if (mode.kind === 'help') {
        const a = actionFor(input, key);
        if (a === 'back' || a === 'help' || a === 'quit') setMode({ kind: 'normal' });
        else if (a) {
          // The help scrolls like a list whose window is the page (the offset is the top row).
          const page = helpPage(ctx.height);
          const max = Math.max(0, keyInfo.table.length - page);
          const next = moveCursor({ cursor: helpTop, offset: helpTop }, a, max + 1, 1);
          if (next) setHelpTop(a === 'pageDown' || a === 'pageUp' ? Math.max(0, Math.min(max, helpTop + (a === 'pageDown' ? page : -page))) : next.cursor);
        }
        return;
      }
      if (mode.kind === 'filter') {
        // The TextInput has the other keys; Esc clears, Enter keeps the filter.
        if (key.escape) {
          setFilters((f) => ({ ...f, [filterKey]: '' }));
          setMode({ kind: 'normal' });
        } else if (key.return) setMode({ kind: 'normal' });
        return;
      }
      if (mode.kind === 'confirm') {
        // Default No: only y (or Y) goes ahead; Enter, Esc, n and any other key cancel.
        setMode({ kind: 'normal' });
        if (input === 'y' || input === 'Y') mode.onYes();
        else setMessage('cancelled: nothing changed');
        return;
      }
      if (mode.kind === 'annotate') return; // the form handles its own keys (Esc cancels there)
      // Keys typed faster than a frame (or sent at once by a script) arrive as one string: take them one by one,
      // one per render, so each key sees what the previous one did (`G` then `a` annotates the last row, not
      // the row `G` left). What follows a `/` is the start of the filter.
      if (input.length > 1 && !capture && [...input].every((ch) => ch >= ' ')) {
        queued.current.push(...[...input].map((ch) => ({ ch, key: { ...key, return: false, tab: false } })));
        takeQueued();
        return;
      }
      const a = actionFor(input, key);
      if (process.env.TUI_DEBUG) process.stderr.write(`key ${JSON.stringify(input)} ${a} ${screen} ${capture}\n`);
      if (!a) return;
      setMessage('');
      if (capture) {
        // A screen that is taking text gets everything but Esc handling of its own.
        handler.current?.onAction(a, input);
        return;
      }
      // After a jump, one Esc returns to where it came from (before the screen closes a pane or the filter).
      if (a === 'back' && trail.length && !filter) {
        global(a, input);
        return;
      }
      if (handler.current?.onAction(a, input)) return;
      if (a === 'back' && filter) {
        setFilters((f) => ({ ...f, [filterKey]: '' }));
        return;
      }
      global(a, input);
  };
  const queued = useRef<Array<{ ch: string; key: Key }>>([]);
  const [, setQueueTick] = useState(0);
  function takeQueued(): void {
    const next = queued.current.shift();
    if (!next) return;
    if (mode.kind !== 'normal') {
      queued.current = []; // a form or the help took over: what was typed ahead is not meant for it
      return;
    }
    if (next.ch === '/') {
      const rest = queued.current.map((q) => q.ch).join('');
      queued.current = [];
      if (FILTERABLE.has(screen)) {
        setFilters((f) => ({ ...f, [filterKey]: rest }));
        setMode({ kind: 'filter' });
      } else global('filter', '/');
      return;
    }
    onKey.current(next.ch, next.key);
    // The key opened the annotation form: what was typed behind it is the form's (its text, say).
    if (formAhead.current) {
      formAhead.current.push(...queued.current.map((q) => q.ch));
      queued.current = [];
      return;
    }
    // Render even when the key changed nothing, so the effect below takes the next one.
    if (queued.current.length) setQueueTick((t) => t + 1);
  }
  // After each render (children's handlers are current by then): the next typed-ahead key.
  useEffect(() => {
    if (queued.current.length) takeQueued();
  });
  useInput((input, key) => onKey.current(input, key), { isActive: isRawModeSupported === true });
  // Chunks are split at Enter and other control keys, so a Select sees its Enter; text typed ahead of an input
  // that is about to mount goes to the screen keeping it, and to no other listener (see useKeysApart).
  const takeAhead = useRef<(raw: string) => boolean>(() => false);
  takeAhead.current = (raw) => {
    if (formAhead.current) {
      formAhead.current.push(raw);
      return true;
    }
    return mode.kind === 'normal' && handler.current?.typeAhead?.(raw, rawKey(raw)) === true;
  };
  const takeFormAhead = useCallback((): string[] => {
    const keys = formAhead.current ?? [];
    formAhead.current = null;
    return keys;
  }, []);
  const drainKeys = useKeysApart(inputEvents, takeAhead);
  useEffect(() => drainKeys());

  // @inkjs/ui's TextInput calls onChange from an effect that depends on its identity: keep it stable, and
  // write only real changes, or every render would call it again (an update loop).
  const filterKeyRef = useRef(filterKey);
  filterKeyRef.current = filterKey;
  const onFilterChange = useCallback((v: string) => setFilters((f) => (f[filterKeyRef.current] === v ? f : { ...f, [filterKeyRef.current]: v })), []);

  const active = SCREENS.find((s) => s.id === screen)!;
  const Body = active.Component;
  const tabs = SCREENS.map((s, i) => ({ label: `${i + 1} ${s.title}`, on: s.id === screen }));
  // The active tab keeps its title; the others shorten until the bar fits (under 100 columns they always do).
  const barWidth = (n: number): number => tabs.reduce((w, t) => w + 2 + (t.on ? t.label.length : Math.min(n, t.label.length)), 0);
  const short = size.width >= 100 ? Infinity : ([5, 4, 3].find((n) => barWidth(n) <= size.width) ?? 1);

  const submitAnnotation = async (fields: AnnotationFields): Promise<void> => {
    if (mode.kind !== 'annotate') return;
    try {
      if (mode.existing) await port.edit(mode.existing.id, fields);
      else await port.annotate(mode.subject, fields);
    } catch (e) {
      // Refused (a subject the session lacks) or not saved: say so; nothing is shown as saved that is not.
      setMode({ kind: 'normal' });
      setMessage(`not saved: ${(e as Error).message}`);
      return;
    }
    setMode({ kind: 'normal' });
    setMessage(mode.existing ? `annotation updated: ${mode.label} (was ${mode.existing.disposition} by ${mode.existing.author}, kept in its history)` : `annotated: ${mode.label}`);
    await refresh();
  };

  const shell = (
    <ThemeContext.Provider value={themeValue}>
      <StoreContext.Provider value={store}>
        <ScreenContext.Provider value={ctx}>
          <Box flexDirection="column" width={size.width} height={size.height}>
            <Box>
              <S tone="accent" bold>
                {`vouch · ${model.release.name}${model.release.version ? ` ${model.release.version}` : ''} `}
              </S>
              {model.images.map((im, i) => (
                <S key={i} {...(i === imageIndex ? { inverse: true } : { tone: 'dim' as const })}>
                  {` ${im.name} `}
                </S>
              ))}
              <S tone="dim">{model.images.length > 1 ? '  [ ] switch' : ''}</S>
            </Box>
            <Box>
              {tabs.map((t, i) => (
                <S key={i} {...(t.on ? { inverse: true, bold: true } : { tone: 'dim' as const })}>
                  {t.on ? ` ${t.label} ` : ` ${t.label.slice(0, short)} `}
                </S>
              ))}
            </Box>
            <Box height={ctx.height} flexDirection="column">
              {mode.kind === 'help' ? (
                <HelpView keys={keyInfo.table} width={size.width} height={ctx.height} offset={helpTop} />
              ) : mode.kind === 'annotate' ? (
                <AnnotateForm label={mode.label} {...(mode.existing ? { existing: mode.existing } : {})} typedAhead={takeFormAhead} onSubmit={(f) => void submitAnnotation(f)} onCancel={() => setMode({ kind: 'normal' })} />
              ) : (
                <Body key={`${screen}:${imageIndex}`} />
              )}
            </Box>
            <Box>
              {mode.kind === 'confirm' ? (
                <S tone="warn" bold>{`${fit(mode.prompt, Math.max(10, size.width - 6)).trimEnd()}? y/N`}</S>
              ) : mode.kind === 'filter' ? (
                <Box>
                  <S tone="accent">{'/'}</S>
                  <TextInput defaultValue={filter} placeholder="filter…" onChange={onFilterChange} />
                </Box>
              ) : (
                <S tone={message ? 'warn' : 'dim'}>{message || (filter ? `filter: ${filter}  (${keyOf(keyInfo.table, 'back')} clears)` : hint(keyInfo.table))}</S>
              )}
            </Box>
          </Box>
        </ScreenContext.Provider>
      </StoreContext.Provider>
    </ThemeContext.Provider>
  );
  return themeValue.noColor ? <UiThemeProvider theme={COLOURLESS_UI}>{shell}</UiThemeProvider> : shell;
}

/** What a raw key is, as far as typed-ahead text goes (Ink's own parser is not exported). */
function rawKey(raw: string): Key {
  return {
    upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false,
    return: raw === '\r' || raw === '\n',
    escape: raw === '\x1b',
    ctrl: raw.length === 1 && raw < ' ' && !'\r\n\t\b\x1b'.includes(raw),
    shift: false,
    tab: raw === '\t',
    backspace: raw === '\x7f' || raw === '\b',
    delete: false,
    meta: raw.startsWith('\x1b') && raw.length > 1,
    super: false, hyper: false, capsLock: false, numLock: false,
  };
}

/**
 * Ink hands a chunk of input ("\rbecause", typed faster than it reads, or sent by a script) to every
 * listener as one string, and a Select or TextInput then sees no Enter in it. Here each chunk is handed
 * on as the keys a terminal sends one by one: control keys apart from the text around them, at once and
 * in order. Text typed ahead of an input that a key mounts is taken by the screen (ScreenHandler.typeAhead)
 * and reaches no other listener: the Select that mounted it must not take the rationale's Enter as its own.
 */
function useKeysApart(events: NodeJS.EventEmitter, takeAhead: React.RefObject<(raw: string) => boolean>): () => void {
  const pending = useRef<string[]>([]);
  /** A key was handed on and the App has not rendered since: the next one waits (its handler would read stale state). */
  const awaitingRender = useRef(false);
  const deliver = useRef<(k: string) => void>(() => {});
  const [, rendered] = useState(0);
  useLayoutEffect(() => {
    const original = events.emit;
    deliver.current = (k) => {
      awaitingRender.current = true;
      if (!takeAhead.current(k)) original.call(events, 'input', k);
      // Render even when the key changed nothing, so that the effect below hands on the next one.
      rendered((n) => n + 1);
    };
    events.emit = function (this: NodeJS.EventEmitter, event: string | symbol, ...args: unknown[]): boolean {
      if (event !== 'input' || typeof args[0] !== 'string') return original.call(this, event, ...args);
      // Ink hands a burst of keys (three Downs of a held arrow key, a paste) on in one go, before any render:
      // each key's handler would read the state the first one saw. The first key now, the rest one per render.
      pending.current.push(...splitKeys(args[0]));
      if (!awaitingRender.current) deliver.current(pending.current.shift()!);
      return true;
    };
    return () => {
      events.emit = original;
    };
  }, [events]);
  // Called after each render of the App (its children's effects, an input subscribing, have run by then).
  return () => {
    const next = pending.current.shift();
    if (next === undefined) {
      awaitingRender.current = false;
      return;
    }
    deliver.current(next);
  };
}

/** The status line's reminder of the main keys, from the effective table. */
function hint(t: KeyTable): string {
  const k = (a: Action): string => keyOf(t, a);
  return `${k('help')} help  ${k('filter')} filter  ${k('annotate')} annotate  ${k('prevImage')} ${k('nextImage')} image  ${k('nextScreen')}/1-8 screens  ${k('quit')} quit`;
}
