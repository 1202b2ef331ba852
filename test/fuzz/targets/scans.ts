/** Vulnerability scan reports (Trivy JSON, Grype JSON, SARIF, cosign vuln attestations): the real fixtures, wrapped and mutated. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { COSIGN_VULN_PREDICATE, parseScan } from '../../../src/core/checks/scans.js';
import { fuzzTarget, typedError } from '../harness.js';
import { jsonBytes, mutateJson } from '../mutate.js';

const fixture = (n: string): unknown => JSON.parse(readFileSync(fileURLToPath(new URL(`../../fixtures/sarif/scans/${n}`, import.meta.url)), 'utf8'));
const reports = ['trivy-alpine.json', 'grype-debian.json', 'trivy-alpine.sarif'].map(fixture);
const report = fc.constantFrom(...reports);
const doc = fc.oneof(
  { weight: 3, arbitrary: mutateJson(mutateJson(report)) },
  { weight: 1, arbitrary: fc.tuple(report, fc.boolean()).map(([r, st]) => (st ? { _type: 'https://in-toto.io/Statement/v1', subject: [], predicateType: COSIGN_VULN_PREDICATE, predicate: { scanner: { uri: 'x', version: '1', result: r } } } : { predicate: { scanner: { result: r } } })) },
);

export const scanReport = fuzzTarget({
  name: 'scan-report',
  entry: 'checks/scans.ts parseScan → readScanDocument (Trivy, Grype, SARIF, cosign vuln)',
  arbitrary: jsonBytes(doc),
  run: (b: Uint8Array) => parseScan(b, 'scan.json'),
  isExpectedError: typedError(),
  ciRuns: 300,
  show: (b) => JSON.stringify(Buffer.from(b).toString('utf8')),
});
