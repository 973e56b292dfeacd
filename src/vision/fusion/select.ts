// Order statistics without a sort: the fusion masks take medians of a few thousand cells per
// face, and sorting them cost more than the rest of those stages.

/** The k-th smallest value of `a` (0-based), as a sort would place it; reorders `a` (quickselect). */
export function nthSmallest(a: Float64Array, k: number): number {
  let lo = 0, hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) { const t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
    }
    if (k <= j) hi = j; else if (k >= i) lo = i; else return a[k];
  }
  return a[k];
}
