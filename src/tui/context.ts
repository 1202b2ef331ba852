/** What the App gives every screen: the model, the selected image, sizes, annotations and a few verbs. */
import type { Key } from 'ink';
import { createContext, useContext } from 'react';
import type { Action, KeyTable } from './keys.js';
import type { ImageModel, ReviewModel } from './model.js';
import type { Annotation, AnnotationFields, AnnotationSubject, SessionPort } from './session-port.js';

export const SCREEN_IDS = ['overview', 'layers', 'packages', 'diff', 'chain', 'checks', 'findings', 'approve'] as const;
export type ScreenId = (typeof SCREEN_IDS)[number];

/** A jump target: the subject of a check result, shown on the screen that owns it. */
export type JumpTarget =
  | { screen: 'layers'; path: string | null; layer: number | null }
  | { screen: 'packages'; purl: string }
  | { screen: 'chain'; signature: number | null }
  /** An environment variable: its name in the image config on Overview (values are never shown). */
  | { screen: 'overview'; env: string };

export interface ScreenHandler {
  /** Returns true when the screen used the action. */
  onAction(a: Action, input: string): boolean;
  /** What `a` annotates right now (null: nothing selected). */
  subject?(): { subject: AnnotationSubject; label: string } | null;
  /**
   * Every key first, before any action (true: taken). For text typed ahead of an input that is about to
   * mount: it listens only from its mount's effects on, so the screen keeps what comes before and seeds it.
   */
  typeAhead?(input: string, key: Key): boolean;
}

export interface ScreenCtx {
  model: ReviewModel;
  image: ImageModel;
  imageIndex: number;
  width: number;
  /** Rows available to the screen body. */
  height: number;
  filter: string;
  annotations: Annotation[];
  port: SessionPort;
  /** The effective key table (for hints that name keys). */
  keys: KeyTable;
  /** Register the active screen's key handler (called every render). */
  handle(h: ScreenHandler): void;
  /** Show a subject on its screen (of another image when `imageIndex` is given); Esc comes back. */
  jump(t: JumpTarget, imageIndex?: number): void;
  /** Open the annotation form (new, or editing `existing`). */
  openAnnotate(subject: AnnotationSubject, label: string, existing?: Annotation): void;
  /** Screens with their own inputs (Approve) take the keyboard while typing. */
  setCapture(on: boolean): void;
  /** Ask a y/N question in the status line (default No); `onYes` runs only on y. */
  confirm(prompt: string, onYes: () => void): void;
  /** Re-read annotations from the port after a change. */
  refresh(): Promise<void>;
  say(message: string): void;
  editFields?: AnnotationFields;
}

export const ScreenContext = createContext<ScreenCtx | null>(null);

export function useScreen(): ScreenCtx {
  const c = useContext(ScreenContext);
  if (!c) throw new Error('useScreen outside the App');
  return c;
}
