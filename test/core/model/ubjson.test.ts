import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../../lambdas/core/model/errors.ts';
import { decodeUbjson } from '../../../lambdas/core/model/ubjson.ts';
import { Ubj } from './fixtures.ts';

const decode = (w: Ubj): unknown => decodeUbjson(w.bytes());

describe('decodeUbjson', () => {
  it('decodes every scalar marker big-endian', () => {
    // Arrange: each value chosen so a little-endian or wrong-width read gives a different number.
    const cases: Array<[Ubj, unknown]> = [
      [new Ubj().ch('Z'), null],
      [new Ubj().ch('T'), true],
      [new Ubj().ch('F'), false],
      [new Ubj().ch('i').be('i8', -5), -5],
      [new Ubj().ch('U').be('u8', 200), 200],
      [new Ubj().ch('I').be('i16', -300), -300],
      [new Ubj().ch('l').be('i32', 70000), 70000],
      [new Ubj().ch('L').be('i64', 2 ** 40 + 3), 2 ** 40 + 3],
      [new Ubj().ch('d').be('f32', 0.1), Math.fround(0.1)],
      [new Ubj().ch('D').be('f64', 0.1), 0.1],
      [new Ubj().ch('S').str('héllo'), 'héllo'],
      [new Ubj().ch('S').ch('i').be('i8', 2).ch('ab'), 'ab'],
      [new Ubj().ch('C').ch('x'), 'x'],
      [new Ubj().ch('H').ch('U').be('u8', 4).ch('1e-3'), 0.001],
      [new Ubj().ch('N').ch('N').ch('T'), true],
    ];
    for (const [bytes, expected] of cases) {
      // Act / Assert
      expect(decode(bytes)).toStrictEqual(expected);
    }
  });

  it('decodes typed arrays to typed arrays', () => {
    const f = decode(new Ubj().ch('[$d#L').be('i64', 2).be('f32', 1.5).be('f32', -0.1)) as Float32Array;
    const l = decode(new Ubj().ch('[$l#L').be('i64', 2).be('i32', -1).be('i32', 65536)) as Int32Array;
    const u = decode(new Ubj().ch('[$U#i').be('i8', 3).raw(0, 1, 255)) as Uint8Array;
    const big = decode(
      new Ubj()
        .ch('[$L#U')
        .be('u8', 2)
        .be('i64', 2 ** 33)
        .be('i64', -7),
    ) as Float64Array;
    const i8 = decode(new Ubj().ch('[$i#I').be('i16', 1).be('i8', -2)) as Int8Array;
    const i16 = decode(new Ubj().ch('[$I#l').be('i32', 1).be('i16', -2)) as Int16Array;
    const d = decode(new Ubj().ch('[$D#L').be('i64', 1).be('f64', 0.1)) as Float64Array;

    expect(f).toBeInstanceOf(Float32Array);
    expect([...f]).toEqual([1.5, Math.fround(-0.1)]);
    expect(l).toBeInstanceOf(Int32Array);
    expect([...l]).toEqual([-1, 65536]);
    expect(u).toBeInstanceOf(Uint8Array);
    expect([...u]).toEqual([0, 1, 255]);
    expect([...big]).toEqual([2 ** 33, -7]);
    expect([...i8]).toEqual([-2]);
    expect([...i16]).toEqual([-2]);
    expect([...d]).toEqual([0.1]);
  });

  it('decodes counted arrays without a closing marker and plain arrays with one', () => {
    const counted = decode(new Ubj().ch('[#L').be('i64', 2).ch('i').be('i8', 1).ch('S').str('a'));
    const plain = decode(new Ubj().ch('[').ch('T').ch('Z').ch(']'));
    const typedStrings = decode(new Ubj().ch('[$S#i').be('i8', 2).str('x').str('yz'));

    expect(counted).toEqual([1, 'a']);
    expect(plain).toEqual([true, null]);
    expect(typedStrings).toEqual(['x', 'yz']);
  });

  it('decodes objects whose keys have no S marker, with any integer length marker', () => {
    const bytes = new Ubj()
      .ch('{')
      .str('a')
      .ch('l')
      .be('i32', 1)
      .ch('i')
      .be('i8', 1)
      .ch('b')
      .ch('{}')
      .ch('}');

    const v = decode(bytes);

    expect(v).toEqual({ a: 1, b: {} });
  });

  it('decodes counted and typed objects', () => {
    const counted = decode(new Ubj().ch('{#U').be('u8', 1).str('k').ch('T'));
    const typed = decode(new Ubj().ch('{$i#U').be('u8', 2).str('x').be('i8', 1).str('y').be('i8', -1));

    expect(counted).toEqual({ k: true });
    expect(typed).toEqual({ x: 1, y: -1 });
  });

  it('keeps a __proto__ key as a plain key', () => {
    const v = decode(new Ubj().ch('{').str('__proto__').ch('T').ch('}')) as Record<string, unknown>;

    expect(Object.hasOwn(v, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(v)).toBeNull();
  });

  it('rejects malformed input with ModelFormatError', () => {
    const bad: Ubj[] = [
      new Ubj().ch('{').str('a'), // truncated
      new Ubj().ch('l').be('i16', 1), // short scalar
      new Ubj().ch('T').ch('T'), // trailing bytes
      new Ubj().ch('[$d').ch('d'), // typed array without a count
      new Ubj().ch('[$d#L').be('i64', 100).be('f32', 1), // count beyond data
      new Ubj().ch('S').ch('d').be('f32', 1), // float length
      new Ubj().ch('S').ch('i').be('i8', -1), // negative length
      new Ubj().ch('L').be('i64', 2 ** 53 + 2), // int64 beyond 2^53
      new Ubj().ch('S').ch('U').be('u8', 1).raw(0xff), // invalid UTF-8
      new Ubj().ch('?'), // unknown marker
      new Ubj().ch('H').ch('U').be('u8', 3).ch('abc'), // non-numeric high-precision number
    ];
    for (const b of bad) {
      expect(() => decode(b)).toThrow(ModelFormatError);
    }
  });
});
