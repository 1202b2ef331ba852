/** Fuzz targets for image archives, the tar walker and compressed streams (see test/fuzz/harness.ts). */
import { dockerArchiveTarget, ociArchiveTarget } from './targets/archives.js';
import { layerWalkTarget, tarTarget } from './targets/layers.js';
import { fuzzTest } from './harness.js';

fuzzTest(dockerArchiveTarget);
fuzzTest(ociArchiveTarget);
fuzzTest(tarTarget);
fuzzTest(layerWalkTarget);
