/** Fuzz targets for SBOM documents, scan reports and package databases (see test/fuzz/harness.ts). */
import { sbomCycloneDx, sbomSpdx, sbomSyft, sbomVouch } from './targets/sbom.js';
import { apk, debCopyright, dpkg, golang, java, npm, osReleaseTarget, python, rpmdb, rpmHeaderTarget } from './targets/packages.js';
import { scanReport } from './targets/scans.js';
import { fuzzTest } from './harness.js';

fuzzTest(sbomCycloneDx);
fuzzTest(sbomSpdx);
fuzzTest(sbomSyft);
fuzzTest(sbomVouch);
fuzzTest(scanReport);
for (const t of [dpkg, debCopyright, apk, rpmHeaderTarget, rpmdb, npm, python, golang, java, osReleaseTarget]) fuzzTest(t);
