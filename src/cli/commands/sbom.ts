import type { Command } from 'commander';
import type { CliIo } from '../io.js';

// Placeholder wired into main.ts so parallel work does not collide there; replaced by the real command.
export function registerSbom(_program: Command, _io: CliIo): void {}
