import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createFleet, fleetLookup } from '../../../devices/fleet.ts';
import { DEFAULT_BASELINES } from '../../../lambdas/core/anomaly/index.ts';
import { addCounts, type Counts, emptyCounts } from '../../../lambdas/core/cleaning/index.ts';
import { type QuarantineRecord, REASON_CODES } from '../../../lambdas/core/cleaning/reasons.ts';
import { processMessages } from '../../../lambdas/core/pipeline.ts';
import type { Twin } from '../../../lambdas/core/twin/twin.ts';
import { buildCorpus, CORPUS_FILE, corpusText, type LoadedCase, loadCorpus, RECEIVED_AT } from './corpus.ts';

const baselineFor = (m: { id: string }) => DEFAULT_BASELINES[m.id]!;
const lookupAsset = fleetLookup(createFleet({ assets: 12, seed: 1 }));

interface CaseRun {
  readonly c: LoadedCase;
  readonly counts: Counts;
  readonly quarantine: readonly QuarantineRecord[];
  readonly error?: unknown;
}

/** Runs every case in file order, one message per batch, carrying the twins forward as the twin table would. */
function runCorpus(cases: readonly LoadedCase[]): CaseRun[] {
  let twins = new Map<string, Twin>();
  return cases.map((c) => {
    try {
      const result = processMessages(
        [{ topic: c.topic, payload: c.payload, messageId: c.id, receivedAt: RECEIVED_AT }],
        twins,
        { lookupAsset, baselineFor },
      );
      twins = new Map([...twins, ...result.twins]);
      return { c, counts: result.counts, quarantine: result.quarantine };
    } catch (error) {
      return { c, counts: emptyCounts(), quarantine: [], error };
    }
  });
}

const text = readFileSync(CORPUS_FILE, 'utf8');
const corpus = loadCorpus(text);
const runs = runCorpus(corpus.cases);

describe('bad-input corpus', () => {
  it('is the file the builder generates', () => {
    expect(text).toBe(corpusText());
  });

  it('holds at least 200 messages in every required category, with valid ones mixed in', () => {
    const byCategory = new Map<string, number>();
    for (const c of corpus.cases) byCategory.set(c.category, (byCategory.get(c.category) ?? 0) + 1);
    expect(corpus.cases.length).toBeGreaterThanOrEqual(200);
    for (const category of ['valid', 'invalid-json', 'wrong-types', 'nan-infinity', 'huge-numbers', 'deep-nesting', 'oversize', 'unicode', 'binary', 'topic-mismatch', 'injection', 'timestamps', 'seq', 'unknown-sensor', 'empty-batch', 'over-limits', 'schema', 'maintenance']) {
      expect(byCategory.get(category) ?? 0, category).toBeGreaterThanOrEqual(2);
    }
  });

  it('reports exactly the deliberately broken file lines as file errors', () => {
    const broken = buildCorpus()
      .map((l, i) => (l.kind === 'broken' ? i + 1 : 0))
      .filter((line) => line > 0);
    expect(corpus.fileErrors.map((e) => e.line)).toEqual(broken);
  });
});

describe('processMessages on the bad-input corpus', () => {
  it('never throws', () => {
    const crashed = runs.filter((r) => r.error !== undefined).map((r) => `${r.c.id}: ${String(r.error)}`);
    expect(crashed).toEqual([]);
  });

  it('accounts for every message, sample and reading', () => {
    const total = runs.reduce((acc, r) => addCounts(acc, r.counts), emptyCounts());
    expect(total.messages.received).toBe(corpus.cases.length);
    expect(total.messages.accepted + total.messages.quarantined).toBe(total.messages.received);
    expect(total.samples.clean + total.samples.quarantined).toBe(total.samples.received);
    expect(total.readings.clean + total.readings.quarantined).toBe(total.readings.received);
    for (const r of runs) {
      expect(r.counts.messages, r.c.id).toEqual({ received: 1, accepted: r.counts.messages.accepted, quarantined: 1 - r.counts.messages.accepted });
      expect(r.counts.samples.clean + r.counts.samples.quarantined, r.c.id).toBe(r.counts.samples.received);
      expect(r.counts.readings.clean + r.counts.readings.quarantined, r.c.id).toBe(r.counts.readings.received);
      // Nothing is quarantined in silence: a quarantined message or sample leaves a record.
      if (r.counts.messages.quarantined > 0 || r.counts.samples.quarantined > 0) expect(r.quarantine.length, r.c.id).toBeGreaterThan(0);
    }
  });

  it('gives every quarantine record a known reason, its message id and the data it came from', () => {
    for (const r of runs) {
      // An empty message is kept as what it was: the empty text.
      const sentNothing = r.c.payload.length === 0;
      for (const q of r.quarantine) {
        expect(REASON_CODES, r.c.id).toContain(q.reason);
        expect(q.messageId, r.c.id).toBe(r.c.id);
        if (!sentNothing) expect(q.payload.length, `${r.c.id} ${q.reason}`).toBeGreaterThan(0);
      }
    }
  });

  it('gives each case the outcome and reasons the cleaning contract promises', () => {
    const wrong = runs
      .map((r) => {
        const outcome = r.counts.messages.accepted === 1 ? 'accepted' : 'quarantined';
        const reasons = [...new Set(r.quarantine.map((q) => q.reason))].sort();
        const expected = { outcome: r.c.expect.outcome, reasons: [...r.c.expect.reasons].sort() };
        return JSON.stringify({ outcome, reasons }) === JSON.stringify(expected)
          ? undefined
          : `${r.c.id} (line ${r.c.line}): expected ${JSON.stringify(expected)}, got ${JSON.stringify({ outcome, reasons })}`;
      })
      .filter((w): w is string => w !== undefined);
    expect(wrong).toEqual([]);
  });
});
