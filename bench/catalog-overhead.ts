/**
 * (e) Cataloguing overhead: the share of an inspect spent in the catalogers.
 *
 * Comparing two separate `inspect --no-cache` runs (with and without
 * catalogers) stopped meaning anything once every file is hashed: the catalogers'
 * few percent drowned in the run-to-run noise of a 1 GiB pass (it once read
 * −1.8 %). Here one in-process analysis of the bench image runs the default
 * catalogers wrapped with timers: every `wants`, `note` and `parse` call is
 * timed (async parses until they settle), and so is the content the parser
 * copies out for them (counted in bytes). The figure is cataloguing time /
 * the analysis's wall time.
 */
import { openLayout } from '../src/core/sources/layout.js';
import { analyzeImageFull } from '../src/core/layers/image-analysis.js';
import { DEFAULT_CATALOGERS } from '../src/core/packages/catalog/layer.js';
import type { Cataloger, ParseResult } from '../src/core/packages/catalog/types.js';
import type { BenchImage } from './generate.js';

export interface CatalogOverhead {
  analysisSeconds: number;
  catalogSeconds: number;
  overheadPercent: number;
  filesParsed: number;
  bytesParsed: number;
}

export async function benchCatalogOverhead(img: BenchImage): Promise<CatalogOverhead> {
  let ms = 0;
  let filesParsed = 0;
  let bytesParsed = 0;
  const timed = (c: Cataloger): Cataloger => ({
    name: c.name,
    ...(c.hint ? { hint: c.hint } : {}),
    maxBytes: c.maxBytes,
    wants(path, entry) {
      const t = performance.now();
      try {
        return c.wants(path, entry);
      } finally {
        ms += performance.now() - t;
      }
    },
    ...(c.note
      ? {
          note(path: string, entry: Parameters<NonNullable<Cataloger['note']>>[1]) {
            const t = performance.now();
            try {
              return c.note!(path, entry);
            } finally {
              ms += performance.now() - t;
            }
          },
        }
      : {}),
    parse(path, data, layer): ParseResult | Promise<ParseResult> {
      filesParsed++;
      bytesParsed += data.length;
      const t = performance.now();
      const r = c.parse(path, data, layer);
      ms += performance.now() - t;
      if (!(r instanceof Promise)) return r;
      // Async parsers (sql.js) do their work after the call returns: time it to the settlement.
      const t2 = performance.now();
      return r.finally(() => {
        ms += performance.now() - t2;
      });
    },
  });
  const image = await openLayout(img.dir, { tag: img.tag });
  const t0 = performance.now();
  await analyzeImageFull(image, { noCache: true, catalogers: DEFAULT_CATALOGERS.map(timed) });
  const analysisMs = performance.now() - t0;
  return {
    analysisSeconds: Number((analysisMs / 1000).toFixed(3)),
    catalogSeconds: Number((ms / 1000).toFixed(3)),
    overheadPercent: Number(((ms / analysisMs) * 100).toFixed(1)),
    filesParsed,
    bytesParsed,
  };
}
