/** Where a command writes. Tests pass their own; main.ts passes the process's. */
export interface CliIo {
  out(s: string): void;
  err(s: string): void;
  setExitCode(code: number): void;
}
