/**
 * EventBridge event-pattern matching, written for local mode: the CDK rules' `EventPattern` objects
 * (lambdas/core/alerts/rules.ts) are fed to this matcher unchanged, so routing locally follows the
 * same patterns as in the cloud. Patterns are validated and compiled once, then cached per object.
 *
 * The model is EventBridge's: an event is a tree whose leaves are scalars; arrays are transparent (a
 * leaf or sub-object matches if any element does); a pattern names paths and lists, per leaf, the
 * conditions of which one must hold. The SNS filter-policy matcher reuses this compiler with a
 * narrower dialect (see `PatternDialect`).
 */

export type EventPattern = Readonly<Record<string, unknown>>;

/** A malformed pattern: `path` locates the offending part, e.g. `detail.severity[0]`. */
export class InvalidEventPatternError extends Error {
  override readonly name: string = 'InvalidEventPatternError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`invalid event pattern at ${path || '(root)'}: ${reason}`);
  }
}

/** Which parts of the language a caller accepts (SNS filter policies are a subset). */
export interface PatternDialect {
  /** Name used in error messages. */
  readonly label: string;
  /** `{ "wildcard": … }` and `anything-but: { wildcard }`. */
  readonly wildcard: boolean;
  /** Object-valued fields, i.e. matching below the top level (false for SNS MessageAttributes policies). */
  readonly nested: boolean;
}

export const EVENTBRIDGE_DIALECT: PatternDialect = { label: 'event pattern', wildcard: true, nested: true };

type Scalar = string | number | boolean | null;
type Test = (v: Scalar) => boolean;

interface Leaf {
  readonly kind: 'leaf';
  readonly key: string;
  readonly tests: readonly Test[];
  readonly existsTrue: boolean;
  readonly existsFalse: boolean;
}

interface Nested {
  readonly kind: 'object';
  readonly key: string;
  readonly node: Node;
}

interface Node {
  readonly fields: readonly (Leaf | Nested)[];
  /** Each `$or`: one of its branches must match the same object. */
  readonly ors: readonly (readonly Node[])[];
}

const NUMERIC_OPS = new Set(['=', '<', '<=', '>', '>=']);

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const isScalar = (v: unknown): v is Scalar =>
  v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

// ---------------------------------------------------------------------------------------------------
// Compilation

function fail(path: string, reason: string): never {
  throw new InvalidEventPatternError(path, reason);
}

function describe(v: unknown): string {
  return Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v;
}

function compileNode(pattern: unknown, path: string, d: PatternDialect): Node {
  if (!isRecord(pattern)) fail(path, `must be an object, got ${describe(pattern)}`);
  const keys = Object.keys(pattern);
  if (keys.length === 0) fail(path, 'must name at least one field');
  const fields: (Leaf | Nested)[] = [];
  const ors: Node[][] = [];
  for (const key of keys) {
    const value = pattern[key];
    const at = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length === 0) fail(at, '$or must be a non-empty array of patterns');
      ors.push(value.map((branch, i) => compileNode(branch, `${at}[${i}]`, d)));
    } else if (Array.isArray(value)) {
      fields.push(compileLeaf(key, value, at, d));
    } else if (isRecord(value)) {
      if (!d.nested) fail(at, `nested objects are not allowed in a ${d.label}`);
      fields.push({ kind: 'object', key, node: compileNode(value, at, d) });
    } else {
      fail(at, `must be an array of conditions or a nested object, got ${describe(value)}`);
    }
  }
  return { fields, ors };
}

function compileLeaf(key: string, conditions: readonly unknown[], path: string, d: PatternDialect): Leaf {
  if (conditions.length === 0) fail(path, 'an empty condition list matches nothing; remove the field or add a value');
  const tests: Test[] = [];
  let existsTrue = false;
  let existsFalse = false;
  conditions.forEach((c, i) => {
    const at = `${path}[${i}]`;
    if (isScalar(c)) {
      tests.push((v) => v === c);
      return;
    }
    if (!isRecord(c)) fail(at, `must be a string, number, boolean, null or an operator object, got ${describe(c)}`);
    const ops = Object.keys(c);
    if (ops.length !== 1) fail(at, `an operator object holds exactly one operator, got ${ops.length}`);
    const op = ops[0]!;
    const arg = c[op];
    if (op === 'exists') {
      if (typeof arg !== 'boolean') fail(at, 'exists takes true or false');
      if (arg) existsTrue = true;
      else existsFalse = true;
      return;
    }
    tests.push(compileOperator(op, arg, `${at}.${op}`, d));
  });
  return { kind: 'leaf', key, tests, existsTrue, existsFalse };
}

function stringArg(arg: unknown, path: string): string {
  if (typeof arg !== 'string') fail(path, `takes a string, got ${describe(arg)}`);
  return arg;
}

/** `"abc"` or `{ "equals-ignore-case": "abc" }`, as prefix/suffix take. */
function affixArg(arg: unknown, path: string): { text: string; ignoreCase: boolean } {
  if (isRecord(arg)) {
    const keys = Object.keys(arg);
    if (keys.length !== 1 || keys[0] !== 'equals-ignore-case') fail(path, 'takes a string or { "equals-ignore-case": string }');
    return { text: stringArg(arg['equals-ignore-case'], `${path}.equals-ignore-case`).toLowerCase(), ignoreCase: true };
  }
  return { text: stringArg(arg, path), ignoreCase: false };
}

function affixTest(arg: unknown, path: string, kind: 'prefix' | 'suffix'): (s: string) => boolean {
  const { text, ignoreCase } = affixArg(arg, path);
  if (kind === 'prefix') return ignoreCase ? (s) => s.toLowerCase().startsWith(text) : (s) => s.startsWith(text);
  return ignoreCase ? (s) => s.toLowerCase().endsWith(text) : (s) => s.endsWith(text);
}

function stringOrList(arg: unknown, path: string): readonly string[] {
  const list = Array.isArray(arg) ? arg : [arg];
  if (list.length === 0) fail(path, 'takes a string or a non-empty list of strings');
  return list.map((s, i) => stringArg(s, Array.isArray(arg) ? `${path}[${i}]` : path));
}

/**
 * `*` matches any run of characters (including none); `\*` is a literal star and `\\` a literal
 * backslash. Consecutive stars are rejected, as EventBridge does.
 */
export function compileWildcard(glob: string, path = 'wildcard'): RegExp {
  let source = '^';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '\\') {
      const next = glob[i + 1];
      if (next !== '*' && next !== '\\') fail(path, 'a backslash must escape "*" or "\\"');
      source += `\\${next}`;
      i++;
    } else if (ch === '*') {
      if (glob[i + 1] === '*') fail(path, 'consecutive wildcard characters are not allowed');
      source += '[\\s\\S]*';
    } else {
      source += ch.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&');
    }
  }
  return new RegExp(`${source}$`);
}

function compileNumeric(arg: unknown, path: string): (n: number) => boolean {
  if (!Array.isArray(arg) || (arg.length !== 2 && arg.length !== 4)) {
    fail(path, 'takes [op, number] or [lower-op, number, upper-op, number]');
  }
  const checks: ((n: number) => boolean)[] = [];
  for (let i = 0; i < arg.length; i += 2) {
    const op = arg[i];
    const bound = arg[i + 1];
    if (typeof op !== 'string' || !NUMERIC_OPS.has(op)) fail(`${path}[${i}]`, `unknown operator ${JSON.stringify(op)} (use =, <, <=, >, >=)`);
    if (typeof bound !== 'number' || !Number.isFinite(bound)) fail(`${path}[${i + 1}]`, 'takes a finite number');
    checks.push(
      op === '=' ? (n) => n === bound
      : op === '<' ? (n) => n < bound
      : op === '<=' ? (n) => n <= bound
      : op === '>' ? (n) => n > bound
      : (n) => n >= bound,
    );
  }
  if (arg.length === 4) {
    const [lo, lower, hi, upper] = arg as [string, number, string, number];
    if (lo !== '>' && lo !== '>=') fail(`${path}[0]`, 'a range starts with > or >=');
    if (hi !== '<' && hi !== '<=') fail(`${path}[2]`, 'a range ends with < or <=');
    if (!(lower < upper)) fail(path, 'the lower bound of a range must be below the upper bound');
    const [a, b] = checks as [(n: number) => boolean, (n: number) => boolean];
    return (n) => a(n) && b(n);
  }
  return checks[0]!;
}

function compileAnythingBut(arg: unknown, path: string, d: PatternDialect): Test {
  if (isRecord(arg)) {
    const keys = Object.keys(arg);
    if (keys.length !== 1) fail(path, 'takes one of prefix, suffix, equals-ignore-case, wildcard');
    const op = keys[0]!;
    const inner = arg[op];
    const at = `${path}.${op}`;
    if (op === 'prefix' || op === 'suffix') {
      if (isRecord(inner)) fail(at, `anything-but ${op} takes a plain string`);
      const t = affixTest(inner, at, op);
      return (v) => typeof v === 'string' && !t(v);
    }
    if (op === 'equals-ignore-case') {
      const lowered = new Set(stringOrList(inner, at).map((s) => s.toLowerCase()));
      return (v) => typeof v === 'string' && !lowered.has(v.toLowerCase());
    }
    if (op === 'wildcard' && d.wildcard) {
      const res = stringOrList(inner, at).map((g) => compileWildcard(g, at));
      return (v) => typeof v === 'string' && !res.some((re) => re.test(v));
    }
    fail(at, `anything-but does not take ${op} in a ${d.label}`);
  }
  const list = Array.isArray(arg) ? arg : [arg];
  if (list.length === 0) fail(path, 'takes a value or a non-empty list');
  list.forEach((x, i) => {
    if (typeof x !== 'string' && !(typeof x === 'number' && Number.isFinite(x))) {
      fail(Array.isArray(arg) ? `${path}[${i}]` : path, `takes strings or numbers, got ${describe(x)}`);
    }
  });
  const excluded = new Set<Scalar>(list as Scalar[]);
  return (v) => !excluded.has(v);
}

function compileOperator(op: string, arg: unknown, path: string, d: PatternDialect): Test {
  switch (op) {
    case 'prefix':
    case 'suffix': {
      const t = affixTest(arg, path, op);
      return (v) => typeof v === 'string' && t(v);
    }
    case 'equals-ignore-case': {
      const lowered = stringArg(arg, path).toLowerCase();
      return (v) => typeof v === 'string' && v.toLowerCase() === lowered;
    }
    case 'wildcard': {
      if (!d.wildcard) break;
      const re = compileWildcard(stringArg(arg, path), path);
      return (v) => typeof v === 'string' && re.test(v);
    }
    case 'numeric': {
      const t = compileNumeric(arg, path);
      return (v) => typeof v === 'number' && t(v);
    }
    case 'anything-but':
      return compileAnythingBut(arg, path, d);
    case 'cidr':
      fail(path, 'cidr is not supported by the local matcher (no IP fields are matched in this project)');
  }
  return fail(path, `unknown operator "${op}" in a ${d.label}`);
}

// ---------------------------------------------------------------------------------------------------
// Matching

/** Calls `f` on every scalar leaf under `v` (arrays flattened; objects are not leaves). */
function anyLeaf(v: unknown, f: (s: Scalar) => boolean): boolean {
  if (Array.isArray(v)) {
    for (const x of v) if (anyLeaf(x, f)) return true;
    return false;
  }
  return isScalar(v) && f(v);
}

const present = (): boolean => true;

function matchLeaf(leaf: Leaf, value: unknown): boolean {
  // A field is present when it holds at least one scalar: `{}`, `[]` and a missing key all count as
  // absent, because EventBridge matches flattened leaf paths and those produce none.
  const hasLeaf = value !== undefined && anyLeaf(value, present);
  if (!hasLeaf) return leaf.existsFalse;
  if (leaf.existsTrue) return true;
  const tests = leaf.tests;
  if (isScalar(value)) {
    for (const t of tests) if (t(value)) return true;
    return false;
  }
  return anyLeaf(value, (s) => {
    for (const t of tests) if (t(s)) return true;
    return false;
  });
}

function matchNested(node: Node, value: unknown): boolean {
  if (!Array.isArray(value)) return matchNode(node, value);
  // Every condition must hold within one array element, so fields of different elements never combine.
  let sawObject = false;
  for (const el of value.flat(Infinity)) {
    if (!isRecord(el)) continue;
    sawObject = true;
    if (matchNode(node, el)) return true;
  }
  return !sawObject && matchNode(node, undefined);
}

function matchNode(node: Node, obj: unknown): boolean {
  const rec = isRecord(obj) ? obj : undefined;
  for (const f of node.fields) {
    const value = rec !== undefined && Object.hasOwn(rec, f.key) ? rec[f.key] : undefined;
    if (!(f.kind === 'leaf' ? matchLeaf(f, value) : matchNested(f.node, value))) return false;
  }
  for (const branches of node.ors) {
    let any = false;
    for (const b of branches) {
      if (matchNode(b, obj)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  return true;
}

/** A validated pattern, ready to test events. */
export type CompiledPattern = (event: unknown) => boolean;

/** Validates and compiles a pattern. @throws InvalidEventPatternError */
export function compilePattern(pattern: unknown, dialect: PatternDialect = EVENTBRIDGE_DIALECT): CompiledPattern {
  const root = compileNode(pattern, '', dialect);
  return (event) => matchNode(root, event);
}

/** Throws `InvalidEventPatternError` with the path and reason when `pattern` is malformed. */
export function validatePattern(pattern: unknown): void {
  compilePattern(pattern);
}

const cache = new WeakMap<object, CompiledPattern>();

/**
 * Whether `event` (a full envelope: source, detail-type, account, region, resources, time, id,
 * version, detail) matches `pattern`. Compiled patterns are cached per pattern object, so routing
 * with long-lived route objects validates each pattern once. @throws InvalidEventPatternError
 */
export function matches(pattern: EventPattern, event: unknown): boolean {
  let compiled = cache.get(pattern);
  if (compiled === undefined) {
    compiled = compilePattern(pattern);
    cache.set(pattern, compiled);
  }
  return compiled(event);
}
