/**
 * SNS subscription filter policies. The policy language is the EventBridge pattern language minus
 * `wildcard`, so the compiler in local/eventbridge/matcher.ts does the matching; what is SNS-specific
 * is what a policy is matched against:
 * - `MessageAttributes` scope: a flat object of the typed attributes (String → string, Number →
 *   number, String.Array → its elements; Binary attributes are never matched), no nesting;
 * - `MessageBody` scope: the message parsed as a JSON object (a body that is not one matches nothing).
 */
import { compilePattern, type CompiledPattern, InvalidEventPatternError, type PatternDialect } from '../eventbridge/matcher.ts';
import type { MessageAttributes } from './attributes.ts';

export type FilterPolicyScope = 'MessageAttributes' | 'MessageBody';
export type FilterPolicy = Readonly<Record<string, unknown>>;

/** SNS caps the combinations of values a policy describes. */
export const MAX_FILTER_POLICY_COMBINATIONS = 150;

/** A malformed policy; `path` locates the offending part. */
export class InvalidFilterPolicyError extends Error {
  override readonly name: string = 'InvalidFilterPolicyError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`invalid filter policy at ${path || '(root)'}: ${reason}`);
  }
}

/** A String.Array attribute whose value is not a JSON array, or a Number attribute that is not a number. */
export class InvalidMessageAttributeError extends Error {
  override readonly name: string = 'InvalidMessageAttributeError';
  constructor(
    readonly attribute: string,
    reason: string,
  ) {
    super(`message attribute ${attribute}: ${reason}`);
  }
}

const dialect = (scope: FilterPolicyScope): PatternDialect => ({
  label: `SNS filter policy (${scope})`,
  wildcard: false,
  nested: scope === 'MessageBody',
});

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Value combinations: product over a node's fields, with each `$or` contributing the sum of its branches. */
function combinations(node: Readonly<Record<string, unknown>>): number {
  let total = 1;
  for (const [key, value] of Object.entries(node)) {
    if (key === '$or' && Array.isArray(value)) total *= value.reduce((s: number, b: unknown) => s + (isRecord(b) ? combinations(b) : 1), 0);
    else if (Array.isArray(value)) total *= Math.max(1, value.length);
    else if (isRecord(value)) total *= combinations(value);
  }
  return total;
}

/** Parsed attributes as the policy sees them. @throws InvalidMessageAttributeError */
export function attributesForMatching(attributes: MessageAttributes): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, a] of Object.entries(attributes)) {
    const raw = a.StringValue;
    if (a.DataType === 'Binary') continue;
    if (raw === undefined) throw new InvalidMessageAttributeError(name, `${a.DataType} attribute has no StringValue`);
    if (a.DataType === 'String') out[name] = raw;
    else if (a.DataType === 'Number') {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw new InvalidMessageAttributeError(name, `"${raw}" is not a number`);
      out[name] = n;
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        parsed = undefined;
      }
      if (!Array.isArray(parsed)) throw new InvalidMessageAttributeError(name, 'a String.Array value must be a JSON array');
      out[name] = parsed;
    }
  }
  return out;
}

/** Tests one published message (its body and attributes). */
export type CompiledFilterPolicy = (message: string, attributes: MessageAttributes) => boolean;

/** Validates and compiles a policy. @throws InvalidFilterPolicyError */
export function compileFilterPolicy(policy: FilterPolicy, scope: FilterPolicyScope = 'MessageAttributes'): CompiledFilterPolicy {
  let test: CompiledPattern;
  try {
    test = compilePattern(policy, dialect(scope));
  } catch (err) {
    if (err instanceof InvalidEventPatternError) throw new InvalidFilterPolicyError(err.path, err.reason);
    throw err;
  }
  const n = combinations(policy);
  if (n > MAX_FILTER_POLICY_COMBINATIONS) {
    throw new InvalidFilterPolicyError('', `${n} value combinations exceed the SNS limit of ${MAX_FILTER_POLICY_COMBINATIONS}`);
  }
  if (scope === 'MessageAttributes') return (_message, attributes) => test(attributesForMatching(attributes));
  return (message) => {
    let body: unknown;
    try {
      body = JSON.parse(message);
    } catch {
      return false;
    }
    return isRecord(body) && test(body);
  };
}

/** One-off check; compile once with `compileFilterPolicy` when matching many messages. */
export function matchesFilterPolicy(
  policy: FilterPolicy,
  message: string,
  attributes: MessageAttributes,
  scope: FilterPolicyScope = 'MessageAttributes',
): boolean {
  return compileFilterPolicy(policy, scope)(message, attributes);
}
