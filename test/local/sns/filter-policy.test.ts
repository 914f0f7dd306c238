import { describe, expect, it } from 'vitest';
import type { TwinHealthChangedDetail } from '../../../lambdas/core/alerts/policy.ts';
import { alertMessageAttributes, alertMessageAttributesFromDetail, type MessageAttributes } from '../../../local/sns/attributes.ts';
import {
  compileFilterPolicy,
  type FilterPolicy,
  InvalidFilterPolicyError,
  InvalidMessageAttributeError,
  matchesFilterPolicy,
} from '../../../local/sns/filter-policy.ts';

const s = (v: string) => ({ DataType: 'String', StringValue: v }) as const;
const n = (v: string) => ({ DataType: 'Number', StringValue: v }) as const;
const arr = (v: unknown[]) => ({ DataType: 'String.Array', StringValue: JSON.stringify(v) }) as const;

const attrs: MessageAttributes = {
  severity: s('critical'),
  siteId: s('site-a'),
  assetModel: s('centrifugal-pump'),
  risk: n('0.93'),
  count: n('5'),
  tags: arr(['hot', 'vibrating']),
  blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1]) },
};

// Expectations follow the SNS filter-policy rules: every named attribute must match one of its listed
// conditions; String/Number/String.Array attributes are typed; Binary attributes are never matched.
const attributeCases: [string, FilterPolicy, boolean][] = [
  ['matches an exact string', { severity: ['critical'] }, true],
  ['rejects another string', { severity: ['warning'] }, false],
  ['ORs the values of one attribute', { severity: ['warning', 'critical'] }, true],
  ['ANDs attributes: only critical alerts of site-a', { severity: ['critical'], siteId: ['site-a'] }, true],
  ['ANDs attributes: rejects site-b', { severity: ['critical'], siteId: ['site-b'] }, false],
  ['rejects a policy naming an absent attribute', { region: ['eu'] }, false],
  ['matches anything-but a list', { severity: [{ 'anything-but': ['warning', 'info'] }] }, true],
  ['rejects a value of an anything-but list', { severity: [{ 'anything-but': ['critical'] }] }, false],
  ['matches anything-but a prefix', { siteId: [{ 'anything-but': { prefix: 'plant-' } }] }, true],
  ['rejects anything-but a prefix the value has', { siteId: [{ 'anything-but': { prefix: 'site-' } }] }, false],
  ['does not match anything-but on an absent attribute', { region: [{ 'anything-but': 'eu' }] }, false],
  ['matches a Number attribute by numeric range', { risk: [{ numeric: ['>=', 0.9, '<', 1] }] }, true],
  ['rejects a Number attribute outside the range', { risk: [{ numeric: ['<', 0.5] }] }, false],
  ['matches a Number attribute by exact number', { count: [5] }, true],
  ['does not compare a Number attribute with a string', { count: ['5'] }, false],
  ['does not apply numeric to a String attribute', { siteId: [{ numeric: ['>', 0] }] }, false],
  ['matches a prefix', { siteId: [{ prefix: 'site-' }] }, true],
  ['matches a suffix', { assetModel: [{ suffix: '-pump' }] }, true],
  ['matches equals-ignore-case', { severity: [{ 'equals-ignore-case': 'CRITICAL' }] }, true],
  ['matches exists true', { siteId: [{ exists: true }] }, true],
  ['matches exists false on an absent attribute', { region: [{ exists: false }] }, true],
  ['rejects exists false on a present attribute', { siteId: [{ exists: false }] }, false],
  ['matches any element of a String.Array', { tags: ['vibrating'] }, true],
  ['rejects a String.Array without the value', { tags: ['cold'] }, false],
  ['never matches a Binary attribute', { blob: [{ exists: true }] }, false],
  ['matches $or across attributes', { $or: [{ severity: ['warning'] }, { siteId: ['site-a'] }] }, true],
  ['rejects $or when no branch matches', { $or: [{ severity: ['warning'] }, { siteId: ['site-b'] }] }, false],
];

describe('compileFilterPolicy (MessageAttributes)', () => {
  it.each(attributeCases)('%s', (_name, policy, expected) => {
    // Act
    const result = matchesFilterPolicy(policy, 'any body', attrs, 'MessageAttributes');
    // Assert
    expect(result).toBe(expected);
  });

  it('defaults to the MessageAttributes scope', () => {
    expect(compileFilterPolicy({ severity: ['critical'] })('{"severity":"warning"}', attrs)).toBe(true);
  });

  it('rejects a String.Array attribute that is not a JSON array', () => {
    const bad: MessageAttributes = { tags: { DataType: 'String.Array', StringValue: 'hot' } };
    expect(() => matchesFilterPolicy({ tags: ['hot'] }, '', bad)).toThrow(InvalidMessageAttributeError);
  });

  it('rejects a Number attribute that is not a number', () => {
    const bad: MessageAttributes = { risk: { DataType: 'Number', StringValue: 'high' } };
    expect(() => matchesFilterPolicy({ risk: [{ numeric: ['>', 0] }] }, '', bad)).toThrow(InvalidMessageAttributeError);
  });
});

const body = JSON.stringify({
  source: 'pdm.twin',
  'detail-type': 'TwinHealthChanged',
  detail: { severity: 'critical', siteId: 'site-a', scores: { risk: 0.93 }, topContributors: [{ sensor: 'vib' }] },
});

const bodyCases: [string, FilterPolicy, boolean][] = [
  ['matches a nested property', { detail: { severity: ['critical'] } }, true],
  ['ANDs nested properties: only critical alerts of site-a', { detail: { severity: ['critical'], siteId: ['site-a'] } }, true],
  ['rejects another site', { detail: { severity: ['critical'], siteId: ['site-b'] } }, false],
  ['matches numbers in the body', { detail: { scores: { risk: [{ numeric: ['>', 0.9] }] } } }, true],
  ['matches inside arrays of objects', { detail: { topContributors: { sensor: ['vib'] } } }, true],
  ['matches a top-level key with a dash', { 'detail-type': ['TwinHealthChanged'] }, true],
  ['matches $or in the body', { detail: { $or: [{ severity: ['warning'] }, { siteId: [{ prefix: 'site-' }] }] } }, true],
];

describe('compileFilterPolicy (MessageBody)', () => {
  it.each(bodyCases)('%s', (_name, policy, expected) => {
    expect(matchesFilterPolicy(policy, body, {}, 'MessageBody')).toBe(expected);
  });

  it('matches nothing when the body is not a JSON object', () => {
    const accepts = compileFilterPolicy({ severity: [{ exists: false }] }, 'MessageBody');
    expect([accepts('not json', {}), accepts('[1,2]', {}), accepts('"text"', {})]).toEqual([false, false, false]);
  });

  it('ignores message attributes in the MessageBody scope', () => {
    expect(matchesFilterPolicy({ severity: ['critical'] }, '{"severity":"info"}', attrs, 'MessageBody')).toBe(false);
  });
});

describe('compileFilterPolicy validation', () => {
  const invalid: [string, FilterPolicy, 'MessageAttributes' | 'MessageBody', string][] = [
    ['nested objects in the MessageAttributes scope', { detail: { severity: ['critical'] } }, 'MessageAttributes', 'detail'],
    ['wildcard, which SNS does not offer', { siteId: [{ wildcard: 'site-*' }] }, 'MessageAttributes', 'siteId[0].wildcard'],
    ['a bare string value', { severity: 'critical' }, 'MessageBody', 'severity'],
    ['an empty policy', {}, 'MessageAttributes', ''],
    ['a malformed numeric condition', { risk: [{ numeric: ['>'] }] }, 'MessageAttributes', 'risk[0].numeric'],
  ];

  it.each(invalid)('rejects %s', (_name, policy, scope, path) => {
    let caught: unknown;
    try {
      compileFilterPolicy(policy, scope);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidFilterPolicyError);
    expect((caught as InvalidFilterPolicyError).path).toBe(path);
  });

  it('rejects more than 150 value combinations', () => {
    // 13 × 12 = 156 combinations.
    const policy = { a: Array.from({ length: 13 }, (_, i) => `a${i}`), b: Array.from({ length: 12 }, (_, i) => `b${i}`) };
    expect(() => compileFilterPolicy(policy)).toThrow(/156 value combinations/);
  });

  it('accepts exactly 150 combinations', () => {
    const policy = { a: Array.from({ length: 15 }, (_, i) => `a${i}`), b: Array.from({ length: 10 }, (_, i) => `b${i}`) };
    expect(() => compileFilterPolicy(policy)).not.toThrow();
  });
});

describe('alertMessageAttributes', () => {
  it('builds severity, siteId and assetModel as String attributes', () => {
    const detail = { severity: 'warning', siteId: 'site-b', assetModel: 'turbofan' } satisfies Pick<TwinHealthChangedDetail, 'severity' | 'siteId' | 'assetModel'>;
    expect(alertMessageAttributes(detail)).toEqual({
      severity: { DataType: 'String', StringValue: 'warning' },
      siteId: { DataType: 'String', StringValue: 'site-b' },
      assetModel: { DataType: 'String', StringValue: 'turbofan' },
    });
  });

  it('leaves out names that do not hold a non-empty string in an untyped detail', () => {
    expect(alertMessageAttributesFromDetail({ severity: 'critical', siteId: '', assetModel: 3 })).toEqual({
      severity: { DataType: 'String', StringValue: 'critical' },
    });
  });

  it('lets the documented policy select only critical alerts of site-a', () => {
    const policy = { severity: ['critical'], siteId: ['site-a'] };
    const of = (severity: 'critical' | 'warning', siteId: string) => alertMessageAttributes({ severity, siteId, assetModel: 'turbofan' });
    expect([of('critical', 'site-a'), of('critical', 'site-b'), of('warning', 'site-a')].map((a) => matchesFilterPolicy(policy, '', a))).toEqual([true, false, false]);
  });
});
