;; Hamming-distance kernels for the search index's first stage (src/search/hamming-wasm.ts), on
;; 256-bit codes (32 bytes per row) with SIMD popcount. Rebuild the embedded bytes with
;; `node scripts/build-hamming-wasm.mjs` after editing. The memory is shared so worker threads can
;; scan parts of one collection.
(module
  (import "env" "mem" (memory 1 65536 shared))

  ;; Distance of one row (at byte address $p) to the query held in $q0/$q1.
  (func $dist (param $p i32) (param $q0 v128) (param $q1 v128) (result i32)
    (local $s v128)
    (local.set $s
      (i32x4.extadd_pairwise_i16x8_u
        (i16x8.extadd_pairwise_i8x16_u
          (i8x16.add
            (i8x16.popcnt (v128.xor (v128.load (local.get $p)) (local.get $q0)))
            (i8x16.popcnt (v128.xor (v128.load offset=16 (local.get $p)) (local.get $q1)))))))
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $s)) (i32x4.extract_lane 1 (local.get $s)))
      (i32.add (i32x4.extract_lane 2 (local.get $s)) (i32x4.extract_lane 3 (local.get $s)))))

  ;; hist[d] += 1 (u32 counters) for rows from, from+stride, ... < to: estimates the distance
  ;; distribution so the full scan can select with a fixed threshold (no per-row histogram).
  (func (export "sample") (param $codes i32) (param $from i32) (param $to i32) (param $stride i32) (param $q i32) (param $hist i32)
    (local $q0 v128) (local $q1 v128) (local $i i32) (local $h i32)
    (local.set $q0 (v128.load (local.get $q)))
    (local.set $q1 (v128.load offset=16 (local.get $q)))
    (local.set $i (local.get $from))
    (block $done
      (br_if $done (i32.ge_u (local.get $i) (local.get $to)))
      (loop $l
        (local.set $h (i32.add (local.get $hist)
          (i32.shl (call $dist (i32.add (local.get $codes) (i32.shl (local.get $i) (i32.const 5))) (local.get $q0) (local.get $q1)) (i32.const 2))))
        (i32.store (local.get $h) (i32.add (i32.load (local.get $h)) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (local.get $stride)))
        (br_if $l (i32.lt_u (local.get $i) (local.get $to))))))

  ;; Writes row numbers i in [from, to) with distance <= thr to out (u32), at most cap of them;
  ;; returns how many rows qualified (may exceed cap: the caller then tightens thr). Four rows per
  ;; step: their partial sums are packed into one vector so one compare tests all four.
  (func (export "select") (param $codes i32) (param $from i32) (param $to i32) (param $q i32) (param $thr i32) (param $out i32) (param $cap i32) (result i32)
    (local $q0 v128) (local $q1 v128) (local $i i32) (local $p i32) (local $m i32) (local $end4 i32)
    (local $d v128) (local $thrv v128) (local $mask i32) (local $lane i32)
    (local.set $q0 (v128.load (local.get $q)))
    (local.set $q1 (v128.load offset=16 (local.get $q)))
    (local.set $thrv (i32x4.splat (local.get $thr)))
    (local.set $i (local.get $from))
    (local.set $p (i32.add (local.get $codes) (i32.shl (local.get $from) (i32.const 5))))
    (local.set $end4 (i32.sub (local.get $to) (i32.const 3)))
    (block $done4
      (br_if $done4 (i32.ge_s (local.get $i) (local.get $end4)))
      (loop $l4
        ;; (written out: this V8 does not inline wasm calls, and a call per row costs as much as the row)
        (local.set $d
          (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u (i8x16.shuffle 0 2 4 6 8 10 12 14 16 18 20 22 24 26 28 30
              (i16x8.extadd_pairwise_i8x16_u (i8x16.shuffle 0 2 4 6 8 10 12 14 16 18 20 22 24 26 28 30
              (i16x8.extadd_pairwise_i8x16_u (i8x16.add
                  (i8x16.popcnt (v128.xor (v128.load offset=0 (local.get $p)) (local.get $q0)))
                  (i8x16.popcnt (v128.xor (v128.load offset=16 (local.get $p)) (local.get $q1)))))
              (i16x8.extadd_pairwise_i8x16_u (i8x16.add
                  (i8x16.popcnt (v128.xor (v128.load offset=32 (local.get $p)) (local.get $q0)))
                  (i8x16.popcnt (v128.xor (v128.load offset=48 (local.get $p)) (local.get $q1)))))))
              (i16x8.extadd_pairwise_i8x16_u (i8x16.shuffle 0 2 4 6 8 10 12 14 16 18 20 22 24 26 28 30
              (i16x8.extadd_pairwise_i8x16_u (i8x16.add
                  (i8x16.popcnt (v128.xor (v128.load offset=64 (local.get $p)) (local.get $q0)))
                  (i8x16.popcnt (v128.xor (v128.load offset=80 (local.get $p)) (local.get $q1)))))
              (i16x8.extadd_pairwise_i8x16_u (i8x16.add
                  (i8x16.popcnt (v128.xor (v128.load offset=96 (local.get $p)) (local.get $q0)))
                  (i8x16.popcnt (v128.xor (v128.load offset=112 (local.get $p)) (local.get $q1)))))))))))
        (local.set $mask (i32x4.bitmask (i32x4.le_u (local.get $d) (local.get $thrv))))
        (if (local.get $mask)
          (then
            (local.set $lane (i32.const 0))
            (loop $lanes
              (if (i32.and (local.get $mask) (i32.shl (i32.const 1) (local.get $lane)))
                (then
                  (if (i32.lt_u (local.get $m) (local.get $cap))
                    (then (i32.store (i32.add (local.get $out) (i32.shl (local.get $m) (i32.const 2))) (i32.add (local.get $i) (local.get $lane)))))
                  (local.set $m (i32.add (local.get $m) (i32.const 1)))))
              (local.set $lane (i32.add (local.get $lane) (i32.const 1)))
              (br_if $lanes (i32.lt_u (local.get $lane) (i32.const 4))))))
        (local.set $p (i32.add (local.get $p) (i32.const 128)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br_if $l4 (i32.lt_s (local.get $i) (local.get $end4)))))
    ;; The last 0-3 rows one at a time.
    (block $done
      (br_if $done (i32.ge_u (local.get $i) (local.get $to)))
      (loop $l
        (if (i32.le_u (call $dist (local.get $p) (local.get $q0) (local.get $q1)) (local.get $thr))
          (then
            (if (i32.lt_u (local.get $m) (local.get $cap))
              (then (i32.store (i32.add (local.get $out) (i32.shl (local.get $m) (i32.const 2))) (local.get $i))))
            (local.set $m (i32.add (local.get $m) (i32.const 1)))))
        (local.set $p (i32.add (local.get $p) (i32.const 32)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get $to)))))
    (local.get $m))
)
