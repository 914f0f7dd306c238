import { describe, expect, it } from 'vitest';
import { HISTORY_PRICES, historyCost } from '../../../lib/cost/history.ts';
import { estimateCost } from '../../../lib/cost/model.ts';

describe('historyCost', () => {
  it('prices ingest per GB, storage of the retention window, Athena at its 10 MB minimum, and no key of its own', () => {
    // Arrange: 1 GiB of JSON rows a month, 1,000 queries.
    const c = historyCost({ samplesPerMonth: 1024 ** 3 / 1000, rowBytesPerSample: 1000, queriesPerMonth: 1000, filesPerMonth: 0 });
    // Assert
    expect(c.usage.ingestGb).toBeCloseTo(1, 9);
    expect(c.parts.firehose).toBeCloseTo(HISTORY_PRICES.firehoseIcebergPerGb, 9);
    expect(c.usage.storedGb).toBeCloseTo(0.2 * 12, 9);
    expect(c.parts.athena).toBeCloseTo((1000 * 10 * 1024 ** 2 * 5) / 1024 ** 4, 9);
    // The history is encrypted with the stage's data key, priced once under `kms`.
    expect(c.usd).toBeCloseTo(c.parts.firehose + c.parts.s3 + c.parts.athena, 9);
  });

  it('refuses a negative input', () => {
    expect(() => historyCost({ samplesPerMonth: -1, rowBytesPerSample: 1 })).toThrow(RangeError);
  });

  it('is a line of pdm cost that grows with the fleet', () => {
    const small = estimateCost({ assets: 100, intervalSeconds: 60 });
    const large = estimateCost({ assets: 1000, intervalSeconds: 60 });
    expect(small.byService.history.usd).toBeGreaterThan(1);
    expect(large.byService.history.usage.ingestGb).toBeCloseTo(10 * small.byService.history.usage.ingestGb!, 6);
  });
});
