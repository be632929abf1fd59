;; Argon2id block filling (RFC 9106, version 0x13): the compression function G (§3.5, §3.6), the reference-block
;; index (§3.4.1, §3.4.2) and one segment of one lane per call (§3.4). H0, H' and the tag are computed in JS
;; (lib/crypto/argon2/argon2-hash.ts) with BLAKE2b; only the 1 KiB block work lives here.
;;
;; 128-bit SIMD: a 16-byte register S_i = (v_{2i+1} || v_{2i}) of RFC 9106 §3.6 is one v128 whose i64x2 lane 0
;; is v_{2i} (little-endian memory), so each GB below runs two of the RFC's GB calls at once.
;;
;; scripts/build-argon2-wasm.mjs compiles this file twice: with a shared memory import (the parallel path: lane
;; workers fill segments of one memory) and with a plain one (the single path, where SharedArrayBuffer is missing).
;; The memory import below is the only difference: the build script fills in its marker.
;;
;; Memory layout (bytes), fixed by the JS side (lib/crypto/argon2/layout.ts):
;;   0 .. 1023            a block of zeros, never written: the first argument of G in address generation (§3.4.1.2)
;;   1024 .. 4095         control words of the JS side (barrier counter, abort flag); never touched here
;;   4096 + 4096*k ..     scratch of thread k (k < 16): R (+0), Q (+1024), address block (+2048), input block (+3072)
;;   131072 ..            the m' blocks, lane-major: block (l, j) at 131072 + (l*q + j)*1024
(module
  (import "env" "memory" (memory 2 65536 @SHARED@))

  ;; RFC 9106 §3.6 GB(a, b, c, d) appears inline in $P below (four times; the two independent GBs of each half-round
  ;; are interleaved step by step so their dependency chains overlap). Each runs two of the RFC's GB calls at once, one
  ;; per i64x2 lane:
  ;;   fBlaMka(x, y) = x + y + 2 * trunc(x) * trunc(y), trunc = the low 32 bits, all mod 2^64. The shuffle
  ;;   0 1 2 3 8 9 10 11 ... gathers the low 32-bit halves of both i64 lanes, so i64x2.extmul_low_i32x4_u multiplies
  ;;   them into full 64-bit products.
  ;;   Rotations right by 32, 24 and 16 bits are byte shuffles inside each 64-bit lane (result byte k = source byte
  ;;   (k + n) mod 8 for a rotation by 8n bits); by 63 it is (x >> 63) | (x << 1).
  ;; Inline rather than called: with $GB and $fBlaMka as functions the fill took twice as long in Node 20 (V8 11.3).

  ;; RFC 9106 §3.6 permutation P on the eight 16-byte registers at $p, $p + $s, ..., $p + 7*$s, in place.
  ;; As a 4x4 matrix of 64-bit words v_0..v_15: rows A = (S_0, S_1), B = (S_2, S_3), C = (S_4, S_5), D = (S_6, S_7).
  (func $P (param $p i32) (param $s i32)
    (local $a0 v128) (local $a1 v128) (local $b0 v128) (local $b1 v128)
    (local $c0 v128) (local $c1 v128) (local $d0 v128) (local $d1 v128) (local $t v128) (local $u v128)
    (local.set $a0 (v128.load (local.get $p)))
    (local.set $a1 (v128.load (i32.add (local.get $p) (local.get $s))))
    (local.set $b0 (v128.load (i32.add (local.get $p) (i32.mul (local.get $s) (i32.const 2)))))
    (local.set $b1 (v128.load (i32.add (local.get $p) (i32.mul (local.get $s) (i32.const 3)))))
    (local.set $c0 (v128.load (i32.add (local.get $p) (i32.mul (local.get $s) (i32.const 4)))))
    (local.set $c1 (v128.load (i32.add (local.get $p) (i32.mul (local.get $s) (i32.const 5)))))
    (local.set $d0 (v128.load (i32.add (local.get $p) (i32.mul (local.get $s) (i32.const 6)))))
    (local.set $d1 (v128.load (i32.add (local.get $p) (i32.mul (local.get $s) (i32.const 7)))))

    ;; Columns: GB(v0, v4, v8, v12), GB(v1, v5, v9, v13) | GB(v2, v6, v10, v14), GB(v3, v7, v11, v15).
    ;; a = fBlaMka(a, b); d = (d XOR a) >>> 32
    (local.set $a0 (i64x2.add (i64x2.add (local.get $a0) (local.get $b0))
        (i64x2.shl (i64x2.extmul_low_i32x4_u (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $a0) (local.get $a0))
          (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $b0) (local.get $b0))) (i32.const 1))))
    (local.set $t (v128.xor (local.get $d0) (local.get $a0)))
    (local.set $d0 (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $t) (local.get $t)))
    (local.set $a1 (i64x2.add (i64x2.add (local.get $a1) (local.get $b1))
        (i64x2.shl (i64x2.extmul_low_i32x4_u (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $a1) (local.get $a1))
          (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $b1) (local.get $b1))) (i32.const 1))))
    (local.set $u (v128.xor (local.get $d1) (local.get $a1)))
    (local.set $d1 (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $u) (local.get $u)))
    ;; c = fBlaMka(c, d); b = (b XOR c) >>> 24
    (local.set $c0 (i64x2.add (i64x2.add (local.get $c0) (local.get $d0))
        (i64x2.shl (i64x2.extmul_low_i32x4_u (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $c0) (local.get $c0))
          (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $d0) (local.get $d0))) (i32.const 1))))
    (local.set $t (v128.xor (local.get $b0) (local.get $c0)))
    (local.set $b0 (i8x16.shuffle 3 4 5 6 7 0 1 2 11 12 13 14 15 8 9 10 (local.get $t) (local.get $t)))
    (local.set $c1 (i64x2.add (i64x2.add (local.get $c1) (local.get $d1))
        (i64x2.shl (i64x2.extmul_low_i32x4_u (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $c1) (local.get $c1))
          (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $d1) (local.get $d1))) (i32.const 1))))
    (local.set $u (v128.xor (local.get $b1) (local.get $c1)))
    (local.set $b1 (i8x16.shuffle 3 4 5 6 7 0 1 2 11 12 13 14 15 8 9 10 (local.get $u) (local.get $u)))
    ;; a = fBlaMka(a, b); d = (d XOR a) >>> 16
    (local.set $a0 (i64x2.add (i64x2.add (local.get $a0) (local.get $b0))
        (i64x2.shl (i64x2.extmul_low_i32x4_u (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $a0) (local.get $a0))
          (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $b0) (local.get $b0))) (i32.const 1))))
    (local.set $t (v128.xor (local.get $d0) (local.get $a0)))
    (local.set $d0 (i8x16.shuffle 2 3 4 5 6 7 0 1 10 11 12 13 14 15 8 9 (local.get $t) (local.get $t)))
    (local.set $a1 (i64x2.add (i64x2.add (local.get $a1) (local.get $b1))
        (i64x2.shl (i64x2.extmul_low_i32x4_u (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $a1) (local.get $a1))
          (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $b1) (local.get $b1))) (i32.const 1))))
    (local.set $u (v128.xor (local.get $d1) (local.get $a1)))
    (local.set $d1 (i8x16.shuffle 2 3 4 5 6 7 0 1 10 11 12 13 14 15 8 9 (local.get $u) (local.get $u)))
    ;; c = fBlaMka(c, d); b = (b XOR c) >>> 63
    (local.set $c0 (i64x2.add (i64x2.add (local.get $c0) (local.get $d0))
        (i64x2.shl (i64x2.extmul_low_i32x4_u (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $c0) (local.get $c0))
          (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $d0) (local.get $d0))) (i32.const 1))))
    (local.set $t (v128.xor (local.get $b0) (local.get $c0)))
    (local.set $b0 (v128.or (i64x2.shr_u (local.get $t) (i32.const 63)) (i64x2.shl (local.get $t) (i32.const 1))))
    (local.set $c1 (i64x2.add (i64x2.add (local.get $c1) (local.get $d1))
        (i64x2.shl (i64x2.extmul_low_i32x4_u (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $c1) (local.get $c1))
          (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $d1) (local.get $d1))) (i32.const 1))))
    (local.set $u (v128.xor (local.get $b1) (local.get $c1)))
    (local.set $b1 (v128.or (i64x2.shr_u (local.get $u) (i32.const 63)) (i64x2.shl (local.get $u) (i32.const 1))))

    ;; Diagonals: GB(v0, v5, v10, v15), GB(v1, v6, v11, v12) | GB(v2, v7, v8, v13), GB(v3, v4, v9, v14).
    ;; Rotate row B left by one word, C by two, D by three: B = (v5, v6), (v7, v4); C = (v10, v11), (v8, v9);
    ;; D = (v15, v12), (v13, v14). The shuffle 8..23 takes the high word of its first operand, then the low word of
    ;; its second.
    (local.set $t (local.get $b0))
    (local.set $b0 (i8x16.shuffle 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 (local.get $t) (local.get $b1)))
    (local.set $b1 (i8x16.shuffle 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 (local.get $b1) (local.get $t)))
    (local.set $t (local.get $c0))
    (local.set $c0 (local.get $c1))
    (local.set $c1 (local.get $t))
    (local.set $t (local.get $d0))
    (local.set $d0 (i8x16.shuffle 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 (local.get $d1) (local.get $t)))
    (local.set $d1 (i8x16.shuffle 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 (local.get $t) (local.get $d1)))

    ;; a = fBlaMka(a, b); d = (d XOR a) >>> 32
    (local.set $a0 (i64x2.add (i64x2.add (local.get $a0) (local.get $b0))
        (i64x2.shl (i64x2.extmul_low_i32x4_u (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $a0) (local.get $a0))
          (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $b0) (local.get $b0))) (i32.const 1))))
    (local.set $t (v128.xor (local.get $d0) (local.get $a0)))
    (local.set $d0 (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $t) (local.get $t)))
    (local.set $a1 (i64x2.add (i64x2.add (local.get $a1) (local.get $b1))
        (i64x2.shl (i64x2.extmul_low_i32x4_u (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $a1) (local.get $a1))
          (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $b1) (local.get $b1))) (i32.const 1))))
    (local.set $u (v128.xor (local.get $d1) (local.get $a1)))
    (local.set $d1 (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $u) (local.get $u)))
    ;; c = fBlaMka(c, d); b = (b XOR c) >>> 24
    (local.set $c0 (i64x2.add (i64x2.add (local.get $c0) (local.get $d0))
        (i64x2.shl (i64x2.extmul_low_i32x4_u (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $c0) (local.get $c0))
          (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $d0) (local.get $d0))) (i32.const 1))))
    (local.set $t (v128.xor (local.get $b0) (local.get $c0)))
    (local.set $b0 (i8x16.shuffle 3 4 5 6 7 0 1 2 11 12 13 14 15 8 9 10 (local.get $t) (local.get $t)))
    (local.set $c1 (i64x2.add (i64x2.add (local.get $c1) (local.get $d1))
        (i64x2.shl (i64x2.extmul_low_i32x4_u (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $c1) (local.get $c1))
          (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $d1) (local.get $d1))) (i32.const 1))))
    (local.set $u (v128.xor (local.get $b1) (local.get $c1)))
    (local.set $b1 (i8x16.shuffle 3 4 5 6 7 0 1 2 11 12 13 14 15 8 9 10 (local.get $u) (local.get $u)))
    ;; a = fBlaMka(a, b); d = (d XOR a) >>> 16
    (local.set $a0 (i64x2.add (i64x2.add (local.get $a0) (local.get $b0))
        (i64x2.shl (i64x2.extmul_low_i32x4_u (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $a0) (local.get $a0))
          (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $b0) (local.get $b0))) (i32.const 1))))
    (local.set $t (v128.xor (local.get $d0) (local.get $a0)))
    (local.set $d0 (i8x16.shuffle 2 3 4 5 6 7 0 1 10 11 12 13 14 15 8 9 (local.get $t) (local.get $t)))
    (local.set $a1 (i64x2.add (i64x2.add (local.get $a1) (local.get $b1))
        (i64x2.shl (i64x2.extmul_low_i32x4_u (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $a1) (local.get $a1))
          (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $b1) (local.get $b1))) (i32.const 1))))
    (local.set $u (v128.xor (local.get $d1) (local.get $a1)))
    (local.set $d1 (i8x16.shuffle 2 3 4 5 6 7 0 1 10 11 12 13 14 15 8 9 (local.get $u) (local.get $u)))
    ;; c = fBlaMka(c, d); b = (b XOR c) >>> 63
    (local.set $c0 (i64x2.add (i64x2.add (local.get $c0) (local.get $d0))
        (i64x2.shl (i64x2.extmul_low_i32x4_u (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $c0) (local.get $c0))
          (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $d0) (local.get $d0))) (i32.const 1))))
    (local.set $t (v128.xor (local.get $b0) (local.get $c0)))
    (local.set $b0 (v128.or (i64x2.shr_u (local.get $t) (i32.const 63)) (i64x2.shl (local.get $t) (i32.const 1))))
    (local.set $c1 (i64x2.add (i64x2.add (local.get $c1) (local.get $d1))
        (i64x2.shl (i64x2.extmul_low_i32x4_u (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $c1) (local.get $c1))
          (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $d1) (local.get $d1))) (i32.const 1))))
    (local.set $u (v128.xor (local.get $b1) (local.get $c1)))
    (local.set $b1 (v128.or (i64x2.shr_u (local.get $u) (i32.const 63)) (i64x2.shl (local.get $u) (i32.const 1))))

    ;; Undo the rotation: B = (v4, v5), (v6, v7); C swaps back; D = (v12, v13), (v14, v15).
    (local.set $t (local.get $b0))
    (local.set $b0 (i8x16.shuffle 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 (local.get $b1) (local.get $t)))
    (local.set $b1 (i8x16.shuffle 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 (local.get $t) (local.get $b1)))
    (local.set $t (local.get $c0))
    (local.set $c0 (local.get $c1))
    (local.set $c1 (local.get $t))
    (local.set $t (local.get $d0))
    (local.set $d0 (i8x16.shuffle 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 (local.get $t) (local.get $d1)))
    (local.set $d1 (i8x16.shuffle 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 (local.get $d1) (local.get $t)))

    (v128.store (local.get $p) (local.get $a0))
    (v128.store (i32.add (local.get $p) (local.get $s)) (local.get $a1))
    (v128.store (i32.add (local.get $p) (i32.mul (local.get $s) (i32.const 2))) (local.get $b0))
    (v128.store (i32.add (local.get $p) (i32.mul (local.get $s) (i32.const 3))) (local.get $b1))
    (v128.store (i32.add (local.get $p) (i32.mul (local.get $s) (i32.const 4))) (local.get $c0))
    (v128.store (i32.add (local.get $p) (i32.mul (local.get $s) (i32.const 5))) (local.get $c1))
    (v128.store (i32.add (local.get $p) (i32.mul (local.get $s) (i32.const 6))) (local.get $d0))
    (v128.store (i32.add (local.get $p) (i32.mul (local.get $s) (i32.const 7))) (local.get $d1)))

  ;; RFC 9106 §3.5 G(X, Y): R = X XOR Y; P on each row of the 8x8 register matrix R (giving Q), then on each column
  ;; (giving Z); G = Z XOR R. With $xor set, the result is XORed into $out instead of replacing it (§3.2 step 6,
  ;; version 0x13: passes after the first XOR the new block into the old one). $out may equal $x or $y: R is taken
  ;; into the scratch first.
  (func $G (param $x i32) (param $y i32) (param $out i32) (param $xor i32) (param $scratch i32)
    (local $r i32) (local $q i32) (local $i i32) (local $v v128)
    (local.set $r (local.get $scratch))
    (local.set $q (i32.add (local.get $scratch) (i32.const 1024)))
    (local.set $i (i32.const 0))
    (loop $copy
      (local.set $v
        (v128.xor
          (v128.load (i32.add (local.get $x) (local.get $i)))
          (v128.load (i32.add (local.get $y) (local.get $i)))))
      (v128.store (i32.add (local.get $r) (local.get $i)) (local.get $v))
      (v128.store (i32.add (local.get $q) (local.get $i)) (local.get $v))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br_if $copy (i32.lt_u (local.get $i) (i32.const 1024))))
    ;; Rows: registers 8k .. 8k+7 are 128 contiguous bytes.
    (local.set $i (i32.const 0))
    (loop $rows
      (call $P (i32.add (local.get $q) (i32.mul (local.get $i) (i32.const 128))) (i32.const 16))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $rows (i32.lt_u (local.get $i) (i32.const 8))))
    ;; Columns: registers k, k+8, ..., k+56 are 128 bytes apart.
    (local.set $i (i32.const 0))
    (loop $columns
      (call $P (i32.add (local.get $q) (i32.mul (local.get $i) (i32.const 16))) (i32.const 128))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $columns (i32.lt_u (local.get $i) (i32.const 8))))
    (local.set $i (i32.const 0))
    (if (local.get $xor)
      (then
        (loop $outXor
          (v128.store (i32.add (local.get $out) (local.get $i))
            (v128.xor
              (v128.load (i32.add (local.get $out) (local.get $i)))
              (v128.xor
                (v128.load (i32.add (local.get $q) (local.get $i)))
                (v128.load (i32.add (local.get $r) (local.get $i))))))
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br_if $outXor (i32.lt_u (local.get $i) (i32.const 1024)))))
      (else
        (loop $out
          (v128.store (i32.add (local.get $out) (local.get $i))
            (v128.xor
              (v128.load (i32.add (local.get $q) (local.get $i)))
              (v128.load (i32.add (local.get $r) (local.get $i)))))
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br_if $out (i32.lt_u (local.get $i) (i32.const 1024)))))))

  ;; RFC 9106 §3.4.1.2: the next 128 pseudo-random values J1 || J2 are G(ZERO, G(ZERO, Z)), Z being the input block
  ;; (r, l, sl, m', t, y, i, ZERO) with the counter i incremented first (so the first address block uses i = 1).
  (func $nextAddresses (param $scratch i32)
    (local $addresses i32) (local $input i32)
    (local.set $addresses (i32.add (local.get $scratch) (i32.const 2048)))
    (local.set $input (i32.add (local.get $scratch) (i32.const 3072)))
    (i64.store offset=48 (local.get $input) (i64.add (i64.load offset=48 (local.get $input)) (i64.const 1)))
    (call $G (i32.const 0) (local.get $input) (local.get $addresses) (i32.const 0) (local.get $scratch))
    (call $G (i32.const 0) (local.get $addresses) (local.get $addresses) (i32.const 0) (local.get $scratch)))

  ;; Fills one segment (RFC 9106 §3.4: lane $lane, slice $slice of pass $pass) of a memory of $lanes lanes of $q
  ;; blocks each ($q a multiple of 4), for $passes passes in total, using the scratch at $scratch. Segments of one
  ;; slice are independent of each other (§3.4), so callers may run them on different threads; a slice must be
  ;; complete in every lane before any lane starts the next.
  (func (export "fill_segment")
    (param $pass i32) (param $lane i32) (param $slice i32) (param $lanes i32) (param $q i32) (param $passes i32)
    (param $scratch i32)
    (local $segment i32) (local $i i32) (local $cur i32) (local $prev i32) (local $dataIndependent i32)
    (local $addresses i32) (local $input i32) (local $rand i64) (local $j1 i64) (local $refLane i32)
    (local $area i32) (local $relative i32) (local $startPos i32) (local $refCol i32)
    (local.set $segment (i32.shr_u (local.get $q) (i32.const 2)))
    (local.set $addresses (i32.add (local.get $scratch) (i32.const 2048)))
    (local.set $input (i32.add (local.get $scratch) (i32.const 3072)))
    ;; Argon2id (§3.4.1.3): data-independent addressing in the first two slices of the first pass only.
    (local.set $dataIndependent
      (i32.and (i32.eqz (local.get $pass)) (i32.lt_u (local.get $slice) (i32.const 2))))
    (if (local.get $dataIndependent)
      (then
        (memory.fill (local.get $input) (i32.const 0) (i32.const 1024))
        (i64.store offset=0 (local.get $input) (i64.extend_i32_u (local.get $pass)))
        (i64.store offset=8 (local.get $input) (i64.extend_i32_u (local.get $lane)))
        (i64.store offset=16 (local.get $input) (i64.extend_i32_u (local.get $slice)))
        (i64.store offset=24 (local.get $input) (i64.extend_i32_u (i32.mul (local.get $q) (local.get $lanes))))
        (i64.store offset=32 (local.get $input) (i64.extend_i32_u (local.get $passes)))
        ;; y = 2: Argon2id (§3.1)
        (i64.store offset=40 (local.get $input) (i64.const 2))))
    ;; Blocks 0 and 1 of each lane come from H' (§3.2 steps 3-4): the first segment of the first pass starts at 2.
    (local.set $i (i32.const 0))
    (if (i32.and (i32.eqz (local.get $pass)) (i32.eqz (local.get $slice)))
      (then
        (local.set $i (i32.const 2))
        (if (local.get $dataIndependent) (then (call $nextAddresses (local.get $scratch))))))
    (local.set $cur
      (i32.add
        (i32.mul (local.get $lane) (local.get $q))
        (i32.add (i32.mul (local.get $slice) (local.get $segment)) (local.get $i))))
    ;; The previous block of column 0 is the lane's last block (§3.2 step 6: B[i][0] uses B[i][q-1]).
    (local.set $prev
      (if (result i32) (i32.eqz (i32.rem_u (local.get $cur) (local.get $q)))
        (then (i32.sub (i32.add (local.get $cur) (local.get $q)) (i32.const 1)))
        (else (i32.sub (local.get $cur) (i32.const 1)))))
    (block $done
      (br_if $done (i32.ge_u (local.get $i) (local.get $segment)))
      (loop $blocks
        ;; J1 || J2 (§3.4.1): from the address block, or the first 64 bits of the previous block.
        (if (local.get $dataIndependent)
          (then
            (if (i32.eqz (i32.and (local.get $i) (i32.const 127)))
              (then (call $nextAddresses (local.get $scratch))))
            (local.set $rand
              (i64.load
                (i32.add (local.get $addresses) (i32.shl (i32.and (local.get $i) (i32.const 127)) (i32.const 3))))))
          (else
            (local.set $rand
              (i64.load (i32.add (i32.const 131072) (i32.shl (local.get $prev) (i32.const 10)))))))
        (local.set $j1 (i64.and (local.get $rand) (i64.const 0xffffffff)))
        ;; §3.4.2: l = J2 mod p, except in the first slice of the first pass, which references its own lane only.
        (local.set $refLane
          (if (result i32) (i32.and (i32.eqz (local.get $pass)) (i32.eqz (local.get $slice)))
            (then (local.get $lane))
            (else (i32.rem_u (i32.wrap_i64 (i64.shr_u (local.get $rand) (i64.const 32))) (local.get $lanes)))))
        ;; §3.4.2: the reference set W. Own lane: every block computed so far except the previous one. Another lane:
        ;; its finished segments (of the last 3 slices after the first pass), minus their last block if this is the
        ;; first block of a segment.
        (if (i32.eqz (local.get $pass))
          (then
            (local.set $startPos (i32.const 0))
            (local.set $area
              (if (result i32) (i32.eq (local.get $refLane) (local.get $lane))
                (then
                  (i32.sub
                    (i32.add (i32.mul (local.get $slice) (local.get $segment)) (local.get $i))
                    (i32.const 1)))
                (else
                  (i32.sub
                    (i32.mul (local.get $slice) (local.get $segment))
                    (i32.eqz (local.get $i)))))))
          (else
            (local.set $startPos
              (if (result i32) (i32.eq (local.get $slice) (i32.const 3))
                (then (i32.const 0))
                (else (i32.mul (i32.add (local.get $slice) (i32.const 1)) (local.get $segment)))))
            (local.set $area
              (if (result i32) (i32.eq (local.get $refLane) (local.get $lane))
                (then
                  (i32.sub
                    (i32.add (i32.sub (local.get $q) (local.get $segment)) (local.get $i))
                    (i32.const 1)))
                (else
                  (i32.sub (i32.sub (local.get $q) (local.get $segment)) (i32.eqz (local.get $i))))))))
        ;; §3.4.2 mapping: x = J1^2 / 2^32, y = (|W| * x) / 2^32, zz = |W| - 1 - y, from the start of W.
        (local.set $relative
          (i32.sub
            (i32.sub (local.get $area) (i32.const 1))
            (i32.wrap_i64
              (i64.shr_u
                (i64.mul
                  (i64.extend_i32_u (local.get $area))
                  (i64.shr_u (i64.mul (local.get $j1) (local.get $j1)) (i64.const 32)))
                (i64.const 32)))))
        (local.set $refCol (i32.rem_u (i32.add (local.get $startPos) (local.get $relative)) (local.get $q)))
        (call $G
          (i32.add (i32.const 131072) (i32.shl (local.get $prev) (i32.const 10)))
          (i32.add
            (i32.const 131072)
            (i32.shl
              (i32.add (i32.mul (local.get $refLane) (local.get $q)) (local.get $refCol))
              (i32.const 10)))
          (i32.add (i32.const 131072) (i32.shl (local.get $cur) (i32.const 10)))
          (i32.ne (local.get $pass) (i32.const 0))
          (local.get $scratch))
        (local.set $prev (local.get $cur))
        (local.set $cur (i32.add (local.get $cur) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $blocks (i32.lt_u (local.get $i) (local.get $segment)))))))
