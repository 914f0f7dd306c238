import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALERT_DETAIL_TYPE, ALERT_SOURCE, type TwinHealthChangedDetail } from '../../../lambdas/core/alerts/policy.ts';
import { ALERT_ROUTES } from '../../../lambdas/core/alerts/rules.ts';
import {
  compilePattern,
  compileWildcard,
  type EventPattern,
  InvalidEventPatternError,
  matches,
  validatePattern,
} from '../../../local/eventbridge/matcher.ts';

// One event exercising every kind of value: envelope fields, strings, numbers, booleans, null, a
// string array, nested objects and an array of objects.
const event = {
  version: '0',
  id: 'e-1',
  'detail-type': 'TwinHealthChanged',
  source: 'pdm.twin',
  account: '123456789012',
  time: '2024-05-01T12:00:00Z',
  region: 'eu-west-1',
  resources: ['arn:aws:iot:eu-west-1:123456789012:thing/pump-1', 'arn:x:other'],
  detail: {
    severity: 'critical',
    siteId: 'site-a',
    assetModel: 'centrifugal-pump',
    seq: 42,
    seqText: '42',
    active: true,
    note: null,
    star: 'a*b',
    plain: 'axb',
    tags: ['hot', 'vibrating'],
    scores: { risk: 0.93, rul: null },
    contributors: [
      { sensor: 'vib', share: 0.7 },
      { sensor: 'temp', share: 0.2 },
    ],
  },
};

const d = (detail: Record<string, unknown>): EventPattern => ({ detail });

// [behaviour, pattern, expected]: expectations follow the EventBridge rules listed in
// ../shared/notes/local-stand-ins.md ("EventBridge pattern matching").
const cases: [string, EventPattern, boolean][] = [
  // structure and envelope
  ['matches an exact source', { source: ['pdm.twin'] }, true],
  ['compares strings case-sensitively', { source: ['PDM.twin'] }, false],
  ['treats a leaf array as OR', { source: ['other', 'pdm.twin'] }, true],
  ['requires every named field (AND)', { source: ['pdm.twin'], 'detail-type': ['Other'] }, false],
  ['matches detail-type', { 'detail-type': ['TwinHealthChanged'] }, true],
  ['matches account', { account: ['123456789012'] }, true],
  ['matches region', { region: ['eu-west-1'] }, true],
  ['matches id', { id: ['e-1'] }, true],
  ['matches version', { version: ['0'] }, true],
  ['matches time', { time: [{ prefix: '2024-05-01' }] }, true],
  ['matches any element of resources', { resources: ['arn:x:other'] }, true],
  ['matches resources by prefix', { resources: [{ prefix: 'arn:aws:iot:' }] }, true],
  ['descends into nested objects', d({ scores: { risk: [0.93] } }), true],
  ['fails when a nested field differs', d({ scores: { risk: [0.5] } }), false],
  // exact values
  ['matches a number', d({ seq: [42] }), true],
  ['matches 42.0 as the number 42', d({ seq: [42.0] }), true],
  ['does not match a number with a string', d({ seq: ['42'] }), false],
  ['does not match a numeric string with a number', d({ seqText: [42] }), false],
  ['matches a boolean', d({ active: [true] }), true],
  ['does not match a boolean with a string', d({ active: ['true'] }), false],
  ['matches JSON null with [null]', d({ note: [null] }), true],
  ['matches a nested null', d({ scores: { rul: [null] } }), true],
  ['does not match a missing field with [null]', d({ missing: [null] }), false],
  ['does not match a missing field with a value', d({ missing: ['x'] }), false],
  ['matches any element of an array field', d({ tags: ['vibrating'] }), true],
  // string filters
  ['matches a prefix', d({ siteId: [{ prefix: 'site-' }] }), true],
  ['keeps prefix case-sensitive', d({ siteId: [{ prefix: 'Site-' }] }), false],
  ['matches a prefix ignoring case', d({ siteId: [{ prefix: { 'equals-ignore-case': 'SITE-' } }] }), true],
  ['matches a suffix', d({ assetModel: [{ suffix: '-pump' }] }), true],
  ['matches a suffix ignoring case', d({ assetModel: [{ suffix: { 'equals-ignore-case': '-PUMP' } }] }), true],
  ['does not apply prefix to numbers', d({ seq: [{ prefix: '4' }] }), false],
  ['matches equals-ignore-case', d({ severity: [{ 'equals-ignore-case': 'CRITICAL' }] }), true],
  ['rejects a different word with equals-ignore-case', d({ severity: [{ 'equals-ignore-case': 'WARNING' }] }), false],
  ['matches a wildcard in the middle', d({ assetModel: [{ wildcard: 'centri*pump' }] }), true],
  ['matches a leading wildcard', d({ assetModel: [{ wildcard: '*-pump' }] }), true],
  ['matches several wildcards', d({ assetModel: [{ wildcard: 'c*l-p*p' }] }), true],
  ['anchors a wildcard at both ends', d({ assetModel: [{ wildcard: 'pump*' }] }), false],
  ['treats an escaped star as a literal star', d({ star: [{ wildcard: 'a\\*b' }] }), true],
  ['does not let an escaped star match other characters', d({ plain: [{ wildcard: 'a\\*b' }] }), false],
  ['lets an unescaped star match other characters', d({ plain: [{ wildcard: 'a*b' }] }), true],
  // anything-but
  ['matches anything-but another value', d({ severity: [{ 'anything-but': 'warning' }] }), true],
  ['rejects the excluded value', d({ severity: [{ 'anything-but': 'critical' }] }), false],
  ['rejects values of an anything-but list', d({ severity: [{ 'anything-but': ['warning', 'critical'] }] }), false],
  ['matches a number outside an anything-but list', d({ seq: [{ 'anything-but': [1, 2] }] }), true],
  ['rejects an excluded number', d({ seq: [{ 'anything-but': 42 }] }), false],
  // The npm plugin treated { prefix } inside anything-but as a literal string: this must be false.
  ['applies anything-but prefix as a prefix', d({ siteId: [{ 'anything-but': { prefix: 'site-' } }] }), false],
  ['matches anything-but a prefix the value lacks', d({ siteId: [{ 'anything-but': { prefix: 'plant-' } }] }), true],
  ['applies anything-but suffix', d({ assetModel: [{ 'anything-but': { suffix: '-pump' } }] }), false],
  ['applies anything-but equals-ignore-case lists', d({ severity: [{ 'anything-but': { 'equals-ignore-case': ['CRITICAL', 'WARNING'] } }] }), false],
  ['matches anything-but equals-ignore-case of other words', d({ severity: [{ 'anything-but': { 'equals-ignore-case': ['WARNING'] } }] }), true],
  ['applies anything-but wildcard', d({ assetModel: [{ 'anything-but': { wildcard: '*pump' } }] }), false],
  ['matches anything-but a wildcard the value misses', d({ assetModel: [{ 'anything-but': { wildcard: 'turbo*' } }] }), true],
  // The npm plugin matched anything-but on a missing field: it must not.
  ['does not match anything-but on a missing field', d({ missing: [{ 'anything-but': 'x' }] }), false],
  ['matches anything-but when one array element differs', d({ tags: [{ 'anything-but': 'hot' }] }), true],
  ['rejects anything-but when every array element is excluded', d({ tags: [{ 'anything-but': ['hot', 'vibrating'] }] }), false],
  // numeric
  ['matches numeric >', d({ seq: [{ numeric: ['>', 40] }] }), true],
  ['excludes the bound with >', d({ seq: [{ numeric: ['>', 42] }] }), false],
  ['includes the bound with >=', d({ seq: [{ numeric: ['>=', 42] }] }), true],
  ['matches numeric =', d({ seq: [{ numeric: ['=', 42] }] }), true],
  ['excludes the bound with <', d({ seq: [{ numeric: ['<', 42] }] }), false],
  ['includes the bound with <=', d({ seq: [{ numeric: ['<=', 42] }] }), true],
  ['matches inside a range', d({ seq: [{ numeric: ['>', 0, '<=', 42] }] }), true],
  ['rejects outside a range', d({ seq: [{ numeric: ['>', 0, '<', 42] }] }), false],
  ['does not apply numeric to numeric strings', d({ seqText: [{ numeric: ['>', 0] }] }), false],
  ['does not apply numeric to null', d({ note: [{ numeric: ['>', -1] }] }), false],
  // exists
  ['matches exists true on a present field', d({ siteId: [{ exists: true }] }), true],
  ['matches exists true on a null field', d({ note: [{ exists: true }] }), true],
  ['rejects exists true on a missing field', d({ missing: [{ exists: true }] }), false],
  ['matches exists false on a missing field', d({ missing: [{ exists: false }] }), true],
  ['rejects exists false on a present field', d({ siteId: [{ exists: false }] }), false],
  ['matches exists false below a missing parent', d({ nope: { deeper: [{ exists: false }] } }), true],
  // exists works on leaves only (AWS docs), so an object-valued field is not "present" as a leaf.
  ['rejects exists true on an object-valued field', d({ scores: [{ exists: true }] }), false],
  // arrays of objects
  ['matches a field of one element of an array of objects', d({ contributors: { sensor: ['temp'] } }), true],
  ['requires fields to match within the same array element', d({ contributors: { sensor: ['vib'], share: [0.2] } }), false],
  ['matches several fields of the same array element', d({ contributors: { sensor: ['temp'], share: [{ numeric: ['<', 0.5] }] } }), true],
  // $or
  ['matches $or when one branch matches', d({ $or: [{ severity: ['warning'] }, { siteId: ['site-a'] }] }), true],
  ['rejects $or when no branch matches', d({ $or: [{ severity: ['warning'] }, { siteId: ['site-b'] }] }), false],
  ['matches $or at the top level', { $or: [{ source: ['nope'] }, { region: ['eu-west-1'] }] }, true],
  ['ANDs $or with sibling fields', { source: ['nope'], $or: [{ region: ['eu-west-1'] }, { account: ['x'] }] }, false],
  ['matches $or nested below detail', d({ scores: { $or: [{ risk: [{ numeric: ['>', 0.9] }] }, { rul: [{ numeric: ['<', 10] }] }] } }), true],
];

describe('matches', () => {
  it.each(cases)('%s', (_name, pattern, expected) => {
    // Act
    const result = matches(pattern, event);
    // Assert
    expect(result).toBe(expected);
  });

  it('supports wildcard instead of throwing (the npm plugin threw "not supported")', () => {
    expect(() => matches(d({ siteId: [{ wildcard: 'site-*' }] }), event)).not.toThrow();
  });

  it('throws InvalidEventPatternError for a malformed pattern', () => {
    expect(() => matches({ source: 'pdm.twin' }, event)).toThrow(InvalidEventPatternError);
  });

  it('does not match inherited object properties', () => {
    expect(matches(d({ toString: [{ exists: true }] }), event)).toBe(false);
  });

  it('matches an exact string and rejects it with anything-but, for any string', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (value, other) => {
        const e = { detail: { k: value } };
        expect(matches(d({ k: [value] }), e)).toBe(true);
        expect(matches(d({ k: [{ 'anything-but': value }] }), e)).toBe(false);
        expect(matches(d({ k: [{ 'anything-but': other }] }), e)).toBe(value !== other);
        expect(matches(d({ k: [{ prefix: value.slice(0, 3) }] }), e)).toBe(true);
        expect(matches(d({ k: [{ suffix: value.slice(-2) }] }), e)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('treats a numeric range as the conjunction of its two bounds', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: 1, max: 1000 }), (x, lo, width) => {
        const e = { detail: { x } };
        const hi = lo + width;
        const inRange = matches(d({ x: [{ numeric: ['>=', lo, '<', hi] }] }), e);
        expect(inRange).toBe(x >= lo && x < hi);
      }),
      { numRuns: 200 },
    );
  });
});

describe('compileWildcard', () => {
  it('matches a literal glob without stars only by equality, for any text', () => {
    fc.assert(
      fc.property(fc.string().filter((s) => !s.includes('*') && !s.includes('\\')), fc.string(), (glob, text) => {
        expect(compileWildcard(glob).test(text)).toBe(glob === text);
      }),
      { numRuns: 200 },
    );
  });
});

const invalid: [string, unknown, string][] = [
  ['an empty pattern', {}, ''],
  ['a non-object root', [], ''],
  ['a null root', null, ''],
  ['a bare string leaf', { source: 'pdm.twin' }, 'source'],
  ['an empty leaf array', { source: [] }, 'source'],
  ['an empty nested object', { detail: {} }, 'detail'],
  ['a nested array in a leaf', { detail: { x: [[1]] } }, 'detail.x[0]'],
  ['a prefix that is not a string', { detail: { severity: [{ prefix: 1 }] } }, 'detail.severity[0].prefix'],
  ['a numeric bound that is a string', { x: [{ numeric: ['>', '1'] }] }, 'x[0].numeric[1]'],
  ['an unknown numeric operator', { x: [{ numeric: ['!=', 1] }] }, 'x[0].numeric[0]'],
  ['a numeric range in the wrong order', { x: [{ numeric: ['<', 5, '>', 1] }] }, 'x[0].numeric[0]'],
  ['an empty numeric range', { x: [{ numeric: ['>', 5, '<', 1] }] }, 'x[0].numeric'],
  ['a numeric with three elements', { x: [{ numeric: ['>', 5, '<'] }] }, 'x[0].numeric'],
  ['exists with a string', { x: [{ exists: 'yes' }] }, 'x[0]'],
  ['an unknown operator', { x: [{ regex: 'a.*' }] }, 'x[0].regex'],
  ['two operators in one object', { x: [{ prefix: 'a', suffix: 'b' }] }, 'x[0]'],
  ['consecutive wildcards', { x: [{ wildcard: 'a**b' }] }, 'x[0].wildcard'],
  ['a dangling backslash in a wildcard', { x: [{ wildcard: 'a\\b' }] }, 'x[0].wildcard'],
  ['numeric inside anything-but', { x: [{ 'anything-but': { numeric: ['>', 1] } }] }, 'x[0].anything-but.numeric'],
  ['an empty anything-but list', { x: [{ 'anything-but': [] }] }, 'x[0].anything-but'],
  ['anything-but with a boolean', { x: [{ 'anything-but': true }] }, 'x[0].anything-but'],
  ['an empty $or', { $or: [] }, '$or'],
  ['a $or that is not an array', { $or: { a: ['x'] } }, '$or'],
  ['a $or branch that is not an object', { $or: [{ a: ['x'] }, 'b'] }, '$or[1]'],
  ['cidr, unsupported locally', { x: [{ cidr: '10.0.0.0/8' }] }, 'x[0].cidr'],
];

describe('validatePattern', () => {
  it.each(invalid)('rejects %s with the offending path', (_name, pattern, path) => {
    // Act
    let caught: unknown;
    try {
      validatePattern(pattern);
    } catch (err) {
      caught = err;
    }
    // Assert
    expect(caught).toBeInstanceOf(InvalidEventPatternError);
    expect((caught as InvalidEventPatternError).name).toBe('InvalidEventPatternError');
    expect((caught as InvalidEventPatternError).path).toBe(path);
  });

  it.each(ALERT_ROUTES.map((r) => [r.id, r] as const))('accepts the %s route pattern', (_id, route) => {
    expect(() => validatePattern(route.pattern)).not.toThrow();
  });
});

describe('ALERT_ROUTES with the matcher', () => {
  const detail = (severity: TwinHealthChangedDetail['severity']): TwinHealthChangedDetail => ({
    version: '1',
    alertId: `a-${severity}`,
    assetId: 'pump-7',
    siteId: 'site-a',
    assetModel: 'centrifugal-pump',
    scope: 'asset',
    from: 'WATCH',
    to: severity === 'critical' ? 'CRITICAL' : severity === 'warning' ? 'WARNING' : 'NORMAL',
    severity,
    at: '2024-05-01T12:00:00.000Z',
    seq: 7,
    scores: { risk: 0.9, anomaly: 0.8, failureProbability: 0.7, rul: 30, rulUnit: 'hours' },
    topContributors: [{ sensor: 'vibration', share: 0.6 }],
    estimatedCostAvoidedUsd: 1200,
  });
  const envelope = (det: TwinHealthChangedDetail, source = ALERT_SOURCE) => ({
    version: '0',
    id: 'x',
    'detail-type': ALERT_DETAIL_TYPE,
    source,
    account: '000000000000',
    time: '2024-05-01T12:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: det,
  });
  const routed = (e: unknown) => ALERT_ROUTES.filter((r) => matches(r.pattern, e)).map((r) => r.id);

  it('routes a critical change to the critical topic and the transitions log', () => {
    expect(routed(envelope(detail('critical')))).toEqual(['CriticalAlerts', 'AllTransitions']);
  });

  it('routes a warning change to the warning topic and the transitions log', () => {
    expect(routed(envelope(detail('warning')))).toEqual(['WarningAlerts', 'AllTransitions']);
  });

  it('routes an info change to the transitions log only', () => {
    expect(routed(envelope(detail('info')))).toEqual(['AllTransitions']);
  });

  it('routes nothing from another source', () => {
    expect(routed(envelope(detail('critical'), 'someone.else'))).toEqual([]);
  });

  it('compiles every route once and reuses it', () => {
    const compiled = ALERT_ROUTES.map((r) => compilePattern(r.pattern));
    const e = envelope(detail('critical'));
    expect(compiled.map((test) => test(e))).toEqual(ALERT_ROUTES.map((r) => matches(r.pattern, e)));
  });
});
