/** Small dense linear algebra for fitting (p ≤ ~30): plain arrays, clarity over speed. */

export class SingularMatrixError extends Error {
  constructor(what: string) {
    super(`matrix is singular: ${what}`);
    this.name = 'SingularMatrixError';
  }
}

/** Inverse of a symmetric positive-definite matrix by Gauss–Jordan with partial pivoting. */
export function invert(a: readonly (readonly number[])[]): number[][] {
  const p = a.length;
  const m = a.map((row, i) => [...row, ...Array.from({ length: p }, (_, j) => (i === j ? 1 : 0))]);
  for (let col = 0; col < p; col++) {
    let pivot = col;
    for (let r = col + 1; r < p; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    if (Math.abs(m[pivot]![col]!) < 1e-14) throw new SingularMatrixError(`column ${col}`);
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    const row = m[col]!;
    const d = row[col]!;
    for (let k = 0; k < 2 * p; k++) row[k] = row[k]! / d;
    for (let r = 0; r < p; r++) {
      if (r === col) continue;
      const f = m[r]![col]!;
      if (f === 0) continue;
      const target = m[r]!;
      for (let k = 0; k < 2 * p; k++) target[k] = target[k]! - f * row[k]!;
    }
  }
  // Symmetrise: round-off would otherwise make M slightly asymmetric.
  const inv = m.map((row) => row.slice(p));
  for (let i = 0; i < p; i++) {
    for (let j = i + 1; j < p; j++) {
      const v = (inv[i]![j]! + inv[j]![i]!) / 2;
      inv[i]![j] = v;
      inv[j]![i] = v;
    }
  }
  return inv;
}

/** Eigen-decomposition of a symmetric matrix (cyclic Jacobi). Eigenvalues descending; vectors as columns. */
export function symmetricEigen(a: readonly (readonly number[])[]): { values: number[]; vectors: number[][] } {
  const p = a.length;
  const m = a.map((r) => [...r]);
  const v: number[][] = Array.from({ length: p }, (_, i) =>
    Array.from({ length: p }, (_, j) => (i === j ? 1 : 0)),
  );
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < p; i++) for (let j = i + 1; j < p; j++) off += m[i]![j]! ** 2;
    if (off < 1e-22) break;
    for (let i = 0; i < p; i++) {
      for (let j = i + 1; j < p; j++) {
        const aij = m[i]![j]!;
        if (Math.abs(aij) < 1e-300) continue;
        const theta = (m[j]![j]! - m[i]![i]!) / (2 * aij);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < p; k++) {
          const mki = m[k]![i]!;
          const mkj = m[k]![j]!;
          m[k]![i] = c * mki - s * mkj;
          m[k]![j] = s * mki + c * mkj;
        }
        for (let k = 0; k < p; k++) {
          const mik = m[i]![k]!;
          const mjk = m[j]![k]!;
          m[i]![k] = c * mik - s * mjk;
          m[j]![k] = s * mik + c * mjk;
        }
        for (let k = 0; k < p; k++) {
          const vki = v[k]![i]!;
          const vkj = v[k]![j]!;
          v[k]![i] = c * vki - s * vkj;
          v[k]![j] = s * vki + c * vkj;
        }
      }
    }
  }
  const order = Array.from({ length: p }, (_, i) => i).sort((x, y) => m[y]![y]! - m[x]![x]!);
  return {
    values: order.map((i) => m[i]![i]!),
    vectors: v.map((row) => order.map((i) => row[i]!)),
  };
}
