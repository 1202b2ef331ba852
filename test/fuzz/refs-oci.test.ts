/** Fuzz targets for references and OCI documents (see test/fuzz/harness.ts). */
import { reference } from './targets/reference.js';
import { config, manifest, ociLayoutFile } from './targets/oci.js';
import { fuzzTest } from './harness.js';

fuzzTest(reference);
fuzzTest(manifest);
fuzzTest(config);
fuzzTest(ociLayoutFile);
