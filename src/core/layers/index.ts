/** Streaming layer analysis: tar parsing, layer walks, the merged filesystem, dive's wasted space. */
export type { EntryType, LayerEntry, LayerWalk } from './types.js';
export { TarParser, type TarHeader, type TarParserOptions, type TarEnd } from './tar.js';
export { walkLayer, cleanPath, type WalkOptions } from './walk.js';
export { mergeLayers, type MergedFilesystem, type MergedNode, type LayerChanges } from './filesystem.js';
export {
  computeEfficiency,
  diveFileList,
  compareUtf8,
  type EfficiencyResult,
  type EfficiencyInput,
  type InefficientFile,
  type DiveFileNode,
} from './efficiency.js';
