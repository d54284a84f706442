//! Miroir's optional Node-API addon. Zero crates: the Node-API functions it needs are declared below and resolve
//! when Node loads the `.node` file. It exports `xxh64(buf, seed)`, `xxh3_64(buf)` and `shardsForKeys(keys, offsets, shards)`
//! (the batch router of SPEC C2: XXH64 seed 0 over `key ‖ 0xFF`, mod S), and `scanAnswer(buf, out)` (the spans of a node's
//! search answer, answer_scan.rs). The glue is `#[cfg(not(test))]` so
//! `cargo test` links without Node and checks the hash and the SPEC vectors.

mod answer_scan;

const P1: u64 = 0x9E37_79B1_85EB_CA87;
const P2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const P3: u64 = 0x1656_67B1_9E37_79F9;
const P4: u64 = 0x85EB_CA77_C2B2_AE63;
const P5: u64 = 0x27D4_EB2F_1656_67C5;

#[inline(always)]
fn read64(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3], b[i + 4], b[i + 5], b[i + 6], b[i + 7]])
}

#[inline(always)]
fn read32(b: &[u8], i: usize) -> u64 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as u64
}

#[inline(always)]
fn round(acc: u64, lane: u64) -> u64 {
    acc.wrapping_add(lane.wrapping_mul(P2)).rotate_left(31).wrapping_mul(P1)
}

#[inline(always)]
fn merge_round(acc: u64, val: u64) -> u64 {
    (acc ^ round(0, val)).wrapping_mul(P1).wrapping_add(P4)
}

/// XXH64 of `input` with `seed` (the reference algorithm).
pub fn xxh64(input: &[u8], seed: u64) -> u64 {
    let len = input.len();
    let mut i = 0usize;
    let mut h: u64;
    if len >= 32 {
        let mut v1 = seed.wrapping_add(P1).wrapping_add(P2);
        let mut v2 = seed.wrapping_add(P2);
        let mut v3 = seed;
        let mut v4 = seed.wrapping_sub(P1);
        while i + 32 <= len {
            v1 = round(v1, read64(input, i));
            v2 = round(v2, read64(input, i + 8));
            v3 = round(v3, read64(input, i + 16));
            v4 = round(v4, read64(input, i + 24));
            i += 32;
        }
        h = v1.rotate_left(1).wrapping_add(v2.rotate_left(7)).wrapping_add(v3.rotate_left(12)).wrapping_add(v4.rotate_left(18));
        h = merge_round(h, v1);
        h = merge_round(h, v2);
        h = merge_round(h, v3);
        h = merge_round(h, v4);
    } else {
        h = seed.wrapping_add(P5);
    }
    h = h.wrapping_add(len as u64);
    while i + 8 <= len {
        h ^= round(0, read64(input, i));
        h = h.rotate_left(27).wrapping_mul(P1).wrapping_add(P4);
        i += 8;
    }
    if i + 4 <= len {
        h ^= read32(input, i).wrapping_mul(P1);
        h = h.rotate_left(23).wrapping_mul(P2).wrapping_add(P3);
        i += 4;
    }
    while i < len {
        h ^= (input[i] as u64).wrapping_mul(P5);
        h = h.rotate_left(11).wrapping_mul(P1);
        i += 1;
    }
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^= h >> 29;
    h = h.wrapping_mul(P3);
    h ^= h >> 32;
    h
}

// ---------------------------------------------------------------- XXH3-64 (default secret, seed 0)

/// XXH3's default 192-byte secret (the `kSecret` of the XXH3 specification).
const SECRET: [u8; 192] = [
    0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
    0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
    0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
    0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
    0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
    0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
    0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
    0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
    0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
    0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
    0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
    0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e
];

const P32_1: u64 = 0x9E37_79B1;
const P32_2: u64 = 0x85EB_CA77;
const P32_3: u64 = 0xC2B2_AE3D;

#[inline(always)]
fn mul128_fold64(a: u64, b: u64) -> u64 {
    let p = (a as u128) * (b as u128);
    (p as u64) ^ ((p >> 64) as u64)
}

#[inline(always)]
fn xxh64_avalanche(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^= h >> 29;
    h = h.wrapping_mul(P3);
    h ^ (h >> 32)
}

#[inline(always)]
fn xxh3_avalanche(mut h: u64) -> u64 {
    h ^= h >> 37;
    h = h.wrapping_mul(0x1656_6791_9E37_79F9);
    h ^ (h >> 32)
}

#[inline(always)]
fn rrmxmx(mut h: u64, len: u64) -> u64 {
    h ^= h.rotate_left(49) ^ h.rotate_left(24);
    h = h.wrapping_mul(0x9FB2_1C65_1E98_DF25);
    h ^= (h >> 35).wrapping_add(len);
    h = h.wrapping_mul(0x9FB2_1C65_1E98_DF25);
    h ^ (h >> 28)
}

#[inline(always)]
fn mix16(input: &[u8], i: usize, s: usize) -> u64 {
    mul128_fold64(read64(input, i) ^ read64(&SECRET, s), read64(input, i + 8) ^ read64(&SECRET, s + 8))
}

fn accumulate_512(acc: &mut [u64; 8], input: &[u8], i: usize, s: usize) {
    for lane in 0..8 {
        let data = read64(input, i + 8 * lane);
        let key = data ^ read64(&SECRET, s + 8 * lane);
        acc[lane ^ 1] = acc[lane ^ 1].wrapping_add(data);
        acc[lane] = acc[lane].wrapping_add((key & 0xFFFF_FFFF).wrapping_mul(key >> 32));
    }
}

fn scramble(acc: &mut [u64; 8], s: usize) {
    for (lane, a) in acc.iter_mut().enumerate() {
        let mut v = *a;
        v ^= v >> 47;
        v ^= read64(&SECRET, s + 8 * lane);
        *a = v.wrapping_mul(P32_1);
    }
}

fn hash_long(input: &[u8]) -> u64 {
    let len = input.len();
    let mut acc: [u64; 8] = [P32_3, P1, P2, P3, P4, P32_2, P5, P32_1];
    let stripes_per_block = (SECRET.len() - 64) / 8;
    let block_len = 64 * stripes_per_block;
    let blocks = (len - 1) / block_len;
    for b in 0..blocks {
        for st in 0..stripes_per_block {
            accumulate_512(&mut acc, input, b * block_len + st * 64, st * 8);
        }
        scramble(&mut acc, SECRET.len() - 64);
    }
    let stripes = ((len - 1) - block_len * blocks) / 64;
    for st in 0..stripes {
        accumulate_512(&mut acc, input, blocks * block_len + st * 64, st * 8);
    }
    accumulate_512(&mut acc, input, len - 64, SECRET.len() - 64 - 7);
    let mut result = (len as u64).wrapping_mul(P1);
    for i in 0..4 {
        result = result.wrapping_add(mul128_fold64(acc[2 * i] ^ read64(&SECRET, 11 + 16 * i), acc[2 * i + 1] ^ read64(&SECRET, 11 + 16 * i + 8)));
    }
    xxh3_avalanche(result)
}

/// XXH3-64 of `input` with seed 0 and the default secret.
pub fn xxh3_64(input: &[u8]) -> u64 {
    let len = input.len();
    if len == 0 {
        return xxh64_avalanche(read64(&SECRET, 56) ^ read64(&SECRET, 64));
    }
    if len <= 3 {
        let (c1, c2, c3) = (input[0] as u32, input[len >> 1] as u32, input[len - 1] as u32);
        let combined = (c1 << 16) | (c2 << 24) | c3 | ((len as u32) << 8);
        let bitflip = (read32(&SECRET, 0) ^ read32(&SECRET, 4)) as u64;
        return xxh64_avalanche((combined as u64) ^ bitflip);
    }
    if len <= 8 {
        let input1 = read32(input, 0);
        let input2 = read32(input, len - 4);
        let bitflip = read64(&SECRET, 8) ^ read64(&SECRET, 16);
        let input64 = input2.wrapping_add(input1 << 32);
        return rrmxmx(input64 ^ bitflip, len as u64);
    }
    if len <= 16 {
        let bitflip1 = read64(&SECRET, 24) ^ read64(&SECRET, 32);
        let bitflip2 = read64(&SECRET, 40) ^ read64(&SECRET, 48);
        let lo = read64(input, 0) ^ bitflip1;
        let hi = read64(input, len - 8) ^ bitflip2;
        let acc = (len as u64).wrapping_add(lo.swap_bytes()).wrapping_add(hi).wrapping_add(mul128_fold64(lo, hi));
        return xxh3_avalanche(acc);
    }
    if len <= 128 {
        let mut acc = (len as u64).wrapping_mul(P1);
        if len > 32 {
            if len > 64 {
                if len > 96 {
                    acc = acc.wrapping_add(mix16(input, 48, 96)).wrapping_add(mix16(input, len - 64, 112));
                }
                acc = acc.wrapping_add(mix16(input, 32, 64)).wrapping_add(mix16(input, len - 48, 80));
            }
            acc = acc.wrapping_add(mix16(input, 16, 32)).wrapping_add(mix16(input, len - 32, 48));
        }
        acc = acc.wrapping_add(mix16(input, 0, 0)).wrapping_add(mix16(input, len - 16, 16));
        return xxh3_avalanche(acc);
    }
    if len <= 240 {
        let mut acc = (len as u64).wrapping_mul(P1);
        for i in 0..8 {
            acc = acc.wrapping_add(mix16(input, 16 * i, 16 * i));
        }
        acc = xxh3_avalanche(acc);
        for i in 8..(len / 16) {
            acc = acc.wrapping_add(mix16(input, 16 * i, 16 * (i - 8) + 3));
        }
        acc = acc.wrapping_add(mix16(input, len - 16, 136 - 17));
        return xxh3_avalanche(acc);
    }
    hash_long(input)
}

/// Shard ids of packed keys: key i is `keys[offsets[i]..offsets[i+1]]`, hashed with the 0xFF terminator.
pub fn shards_for_keys(keys: &[u8], offsets: &[u32], shards: u32, out: &mut [u32]) {
    let mut buf: Vec<u8> = Vec::with_capacity(64);
    for i in 0..offsets.len().saturating_sub(1) {
        let (a, b) = (offsets[i] as usize, offsets[i + 1] as usize);
        buf.clear();
        buf.extend_from_slice(&keys[a..b]);
        buf.push(0xFF);
        out[i] = (xxh64(&buf, 0) % shards as u64) as u32;
    }
}

/// Rendezvous score of (shard, node id): XXH64 over u32 LE shard ‖ UTF-8 id ‖ 0xFF.
pub fn rendezvous_score(shard: u32, node_id: &str) -> u64 {
    let mut buf = Vec::with_capacity(5 + node_id.len());
    buf.extend_from_slice(&shard.to_le_bytes());
    buf.extend_from_slice(node_id.as_bytes());
    buf.push(0xFF);
    xxh64(&buf, 0)
}

#[cfg(not(test))]
mod napi {
    use std::ffi::c_void;
    use std::os::raw::c_char;
    use std::ptr;

    type NapiEnv = *mut c_void;
    type NapiValue = *mut c_void;
    type NapiCallbackInfo = *mut c_void;
    type NapiStatus = i32;
    type NapiCallback = unsafe extern "C" fn(NapiEnv, NapiCallbackInfo) -> NapiValue;
    const NAPI_OK: NapiStatus = 0;
    const NAPI_UINT32_ARRAY: i32 = 6;

    extern "C" {
        fn napi_create_function(env: NapiEnv, name: *const c_char, len: usize, cb: NapiCallback, data: *mut c_void, result: *mut NapiValue) -> NapiStatus;
        fn napi_set_named_property(env: NapiEnv, object: NapiValue, name: *const c_char, value: NapiValue) -> NapiStatus;
        fn napi_get_cb_info(env: NapiEnv, info: NapiCallbackInfo, argc: *mut usize, argv: *mut NapiValue, this: *mut NapiValue, data: *mut *mut c_void) -> NapiStatus;
        fn napi_get_typedarray_info(env: NapiEnv, value: NapiValue, kind: *mut i32, length: *mut usize, data: *mut *mut c_void, arraybuffer: *mut NapiValue, offset: *mut usize) -> NapiStatus;
        fn napi_get_value_bigint_uint64(env: NapiEnv, value: NapiValue, result: *mut u64, lossless: *mut bool) -> NapiStatus;
        fn napi_create_bigint_uint64(env: NapiEnv, value: u64, result: *mut NapiValue) -> NapiStatus;
        fn napi_get_value_uint32(env: NapiEnv, value: NapiValue, result: *mut u32) -> NapiStatus;
        fn napi_create_arraybuffer(env: NapiEnv, byte_length: usize, data: *mut *mut c_void, result: *mut NapiValue) -> NapiStatus;
        fn napi_create_typedarray(env: NapiEnv, kind: i32, length: usize, arraybuffer: NapiValue, offset: usize, result: *mut NapiValue) -> NapiStatus;
        fn napi_throw_type_error(env: NapiEnv, code: *const c_char, msg: *const c_char) -> NapiStatus;
        fn napi_create_int64(env: NapiEnv, value: i64, result: *mut NapiValue) -> NapiStatus;
    }

    unsafe fn throw(env: NapiEnv, msg: &'static [u8]) -> NapiValue {
        napi_throw_type_error(env, ptr::null(), msg.as_ptr() as *const c_char);
        ptr::null_mut()
    }

    unsafe fn args<const N: usize>(env: NapiEnv, info: NapiCallbackInfo) -> Option<[NapiValue; N]> {
        let mut argc = N;
        let mut argv = [ptr::null_mut(); N];
        if napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), ptr::null_mut(), ptr::null_mut()) != NAPI_OK || argc < N {
            return None;
        }
        Some(argv)
    }

    /// A Uint8Array / Buffer (or any typed array) as bytes.
    unsafe fn bytes<'a>(env: NapiEnv, v: NapiValue) -> Option<&'a [u8]> {
        let (mut kind, mut len, mut data, mut off) = (0i32, 0usize, ptr::null_mut(), 0usize);
        let mut ab = ptr::null_mut();
        if napi_get_typedarray_info(env, v, &mut kind, &mut len, &mut data, &mut ab, &mut off) != NAPI_OK {
            return None;
        }
        let elem = match kind { 0 | 1 | 2 => 1, 3 | 4 => 2, 5 | 6 | 7 => 4, _ => 8 };
        if len == 0 {
            return Some(&[]);
        }
        Some(std::slice::from_raw_parts(data as *const u8, len * elem))
    }

    unsafe extern "C" fn js_xxh64(env: NapiEnv, info: NapiCallbackInfo) -> NapiValue {
        let Some([buf, seed]) = args::<2>(env, info) else { return throw(env, b"xxh64(buf, seed) needs 2 arguments\0") };
        let Some(data) = bytes(env, buf) else { return throw(env, b"xxh64: buf must be a Uint8Array\0") };
        let (mut s, mut lossless) = (0u64, false);
        if napi_get_value_bigint_uint64(env, seed, &mut s, &mut lossless) != NAPI_OK {
            return throw(env, b"xxh64: seed must be a BigInt\0");
        }
        let mut out = ptr::null_mut();
        napi_create_bigint_uint64(env, super::xxh64(data, s), &mut out);
        out
    }

    unsafe extern "C" fn js_xxh3_64(env: NapiEnv, info: NapiCallbackInfo) -> NapiValue {
        let Some([buf]) = args::<1>(env, info) else { return throw(env, b"xxh3_64(buf) needs 1 argument\0") };
        let Some(data) = bytes(env, buf) else { return throw(env, b"xxh3_64: buf must be a Uint8Array\0") };
        let mut out = ptr::null_mut();
        napi_create_bigint_uint64(env, super::xxh3_64(data), &mut out);
        out
    }

    unsafe extern "C" fn js_shards_for_keys(env: NapiEnv, info: NapiCallbackInfo) -> NapiValue {
        let Some([keys, offsets, shards]) = args::<3>(env, info) else { return throw(env, b"shardsForKeys(keys, offsets, shards) needs 3 arguments\0") };
        let Some(k) = bytes(env, keys) else { return throw(env, b"shardsForKeys: keys must be a Uint8Array\0") };
        let (mut kind, mut len, mut data, mut off) = (0i32, 0usize, ptr::null_mut(), 0usize);
        let mut ab = ptr::null_mut();
        if napi_get_typedarray_info(env, offsets, &mut kind, &mut len, &mut data, &mut ab, &mut off) != NAPI_OK || kind != NAPI_UINT32_ARRAY {
            return throw(env, b"shardsForKeys: offsets must be a Uint32Array\0");
        }
        let offs: &[u32] = if len == 0 { &[] } else { std::slice::from_raw_parts(data as *const u32, len) };
        let mut s = 0u32;
        if napi_get_value_uint32(env, shards, &mut s) != NAPI_OK || s == 0 {
            return throw(env, b"shardsForKeys: shards must be a positive integer\0");
        }
        if let Some(last) = offs.last() {
            if *last as usize > k.len() || offs.windows(2).any(|w| w[0] > w[1]) {
                return throw(env, b"shardsForKeys: offsets out of range\0");
            }
        }
        let n = offs.len().saturating_sub(1);
        let mut out_data: *mut c_void = ptr::null_mut();
        let mut buffer = ptr::null_mut();
        napi_create_arraybuffer(env, n * 4, &mut out_data, &mut buffer);
        if n > 0 {
            let out = std::slice::from_raw_parts_mut(out_data as *mut u32, n);
            super::shards_for_keys(k, offs, s, out);
        }
        let mut result = ptr::null_mut();
        napi_create_typedarray(env, NAPI_UINT32_ARRAY, n, buffer, 0, &mut result);
        result
    }

    unsafe extern "C" fn js_scan_answer(env: NapiEnv, info: NapiCallbackInfo) -> NapiValue {
        let Some([buf, out]) = args::<2>(env, info) else { return throw(env, b"scanAnswer(buf, out) needs 2 arguments\0") };
        let Some(data) = bytes(env, buf) else { return throw(env, b"scanAnswer: buf must be a Uint8Array\0") };
        let (mut kind, mut len, mut ptr_out, mut off) = (0i32, 0usize, ptr::null_mut(), 0usize);
        let mut ab = ptr::null_mut();
        if napi_get_typedarray_info(env, out, &mut kind, &mut len, &mut ptr_out, &mut ab, &mut off) != NAPI_OK || kind != NAPI_UINT32_ARRAY {
            return throw(env, b"scanAnswer: out must be a Uint32Array\0");
        }
        let spans: &mut [u32] = if len == 0 { &mut [] } else { std::slice::from_raw_parts_mut(ptr_out as *mut u32, len) };
        let mut result = ptr::null_mut();
        napi_create_int64(env, super::answer_scan::scan_answer(data, spans), &mut result);
        result
    }

    unsafe fn export(env: NapiEnv, exports: NapiValue, name: &'static [u8], f: NapiCallback) {
        let mut func = ptr::null_mut();
        napi_create_function(env, name.as_ptr() as *const c_char, name.len() - 1, f, ptr::null_mut(), &mut func);
        napi_set_named_property(env, exports, name.as_ptr() as *const c_char, func);
    }

    #[no_mangle]
    pub unsafe extern "C" fn napi_register_module_v1(env: NapiEnv, exports: NapiValue) -> NapiValue {
        export(env, exports, b"xxh64\0", js_xxh64);
        export(env, exports, b"xxh3_64\0", js_xxh3_64);
        export(env, exports, b"shardsForKeys\0", js_shards_for_keys);
        export(env, exports, b"scanAnswer\0", js_scan_answer);
        exports
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard_for_key(k: &str, s: u32) -> u32 {
        let keys = k.as_bytes();
        let mut out = [0u32; 1];
        shards_for_keys(keys, &[0, keys.len() as u32], s, &mut out);
        out[0]
    }

    #[test]
    fn xxh64_reference_outputs() {
        assert_eq!(xxh64(b"", 0), 0xef46db3751d8e999);
        assert_eq!(xxh64(b"a", 0), 0xd24ec4f1a98c6e5b);
        assert_eq!(xxh64(b"abc", 0), 0x44bc2cf5ad770999);
        assert_eq!(xxh64(b"Nobody inspects the spammish repetition", 0), 0xfbcea83c8a378bf1);
        assert_eq!(xxh64(b"The quick brown fox jumps over the lazy dog", 0), 0x0b242d361fda71bc);
    }

    #[test]
    fn xxh3_reference_outputs() {
        assert_eq!(xxh3_64(b""), 0x2d06800538d394c2);
        assert_eq!(xxh3_64(b"a"), 0xe6c632b61e964e1f);
        assert_eq!(xxh3_64(b"abc"), 0x78af5f94892f3950);
    }

    #[test]
    fn spec_c2_vectors() {
        assert_eq!(rendezvous_score(0, "meili-0"), 12731063314527458815);
        assert_eq!(rendezvous_score(0, "meili-1"), 17669319149168694829);
        assert_eq!(rendezvous_score(0, "meili-2"), 12282760645375418260);
        assert_eq!(shard_for_key("sku_123", 64), 62);
        assert_eq!(shard_for_key("1", 64), 36);
        assert_eq!(shard_for_key("doc-1", 64), 0);
        assert_eq!(shard_for_key("a", 16), 0);
        assert_eq!(shard_for_key("b", 16), 4);
    }
}
