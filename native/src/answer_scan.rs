// Spans of a node's search answer: one strict JSON scan of the bytes (RFC 8259 grammar, nesting at most MAX_DEPTH)
// that reports where each top-level member and each member of each `hits` object sits, so the proxy merges hits
// without parsing them into objects. The layout (u32s) is the one src/core/answer-spans.ts documents and its
// TypeScript scanner produces; any text that is not a JSON object with exactly one `hits` member holding an array of
// objects gives NOT_SCANNABLE, and the caller parses it whole. Spans go into the caller's reusable Uint32Array (no
// allocation per answer: a fresh ArrayBuffer per call cost more than the scan of a 4 KB answer).

/// The text is not an answer this scan reads; the caller parses it whole.
pub const NOT_SCANNABLE: i64 = -1;
/// The output array is too small for the spans; the caller grows it and scans again.
pub const OUT_TOO_SMALL: i64 = -2;

/// MAX_JSON_DEPTH of src/core/json-depth.ts.
const MAX_DEPTH: u32 = 128;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Index of the first byte from `i` that ends a string's plain run (a quote, a backslash or a control byte), or the
/// text's length: sixteen bytes at a time with SSE2 (every x86-64 has it), the tail eight at a time.
#[inline(always)]
fn plain_run(b: &[u8], mut i: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8, __m128i,
        };
        // SAFETY: SSE2 is part of the x86-64 baseline; every load reads 16 bytes inside `b` (i + 16 <= len).
        unsafe {
            let quote = _mm_set1_epi8(b'"' as i8);
            let backslash = _mm_set1_epi8(b'\\' as i8);
            let below_space = _mm_set1_epi8(0x1f);
            while i + 16 <= b.len() {
                let v = _mm_loadu_si128(b.as_ptr().add(i) as *const __m128i);
                let control = _mm_cmpeq_epi8(_mm_min_epu8(v, below_space), v);
                let stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)), control);
                let mask = _mm_movemask_epi8(stop) as u32;
                if mask != 0 {
                    return i + mask.trailing_zeros() as usize;
                }
                i += 16;
            }
        }
    }
    while i + 8 <= b.len() {
        let w = u64::from_le_bytes(b[i..i + 8].try_into().unwrap());
        let stop = stop_bytes(w);
        if stop != 0 {
            // The lowest flagged byte is exact (a borrow only flags bytes above a real match).
            return i + (stop.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() {
        let c = b[i];
        if c == b'"' || c == b'\\' || c < 0x20 {
            return i;
        }
        i += 1;
    }
    i
}

/// The high bit of each byte of `w` that may be a quote, a backslash or a control byte (the lowest one is exact).
#[inline(always)]
fn stop_bytes(w: u64) -> u64 {
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * n as u64) & !x & HIGHS;
    below(w ^ (ONES * b'"' as u64), 1) | below(w ^ (ONES * b'\\' as u64), 1) | below(w, 0x20)
}

/// Spans written into the caller's array; `overflow` once it is full.
struct Out<'o> {
    buf: &'o mut [u32],
    pos: usize,
    overflow: bool,
}

impl<'o> Out<'o> {
    #[inline(always)]
    fn push(&mut self, v: u32) {
        if self.pos < self.buf.len() {
            self.buf[self.pos] = v;
            self.pos += 1;
        } else {
            self.overflow = true;
        }
    }
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    /// Whether the last string scanned held an escape.
    escaped: bool,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(c) = self.peek() {
            if c == b' ' || c == b'\t' || c == b'\n' || c == b'\r' {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    /// At a quote: past the string's closing quote.
    fn string(&mut self) -> bool {
        self.i += 1;
        self.escaped = false;
        loop {
            self.i = plain_run(self.b, self.i);
            let Some(c) = self.peek() else { return false };
            match c {
                b'"' => {
                    self.i += 1;
                    return true;
                }
                b'\\' => {
                    self.i += 1;
                    self.escaped = true;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 1,
                        Some(b'u') => {
                            if self.i + 4 >= self.b.len() {
                                return false;
                            }
                            if !self.b[self.i + 1..self.i + 5].iter().all(|h| h.is_ascii_hexdigit()) {
                                return false;
                            }
                            self.i += 5;
                        }
                        _ => return false,
                    }
                }
                0..=0x1f => return false,
                _ => self.i += 1,
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> bool {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return false,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return false;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return false;
            }
        }
        true
    }

    fn literal(&mut self, lit: &[u8]) -> bool {
        if self.b[self.i..].starts_with(lit) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    /// Any value, skipped.
    fn value(&mut self, depth: u32) -> bool {
        match self.peek() {
            Some(b'"') => self.string(),
            Some(b'{') => self.object(depth + 1, None),
            Some(b'[') => self.array(depth + 1),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            _ => false,
        }
    }

    /// At an opening bracket: past the list that `close` ends, each item read by `item`, commas between them.
    fn list(&mut self, close: u8, mut item: impl FnMut(&mut Self) -> bool) -> bool {
        self.i += 1;
        self.ws();
        if self.peek() == Some(close) {
            self.i += 1;
            return true;
        }
        loop {
            if !item(self) {
                return false;
            }
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    self.ws();
                }
                Some(c) if c == close => {
                    self.i += 1;
                    return true;
                }
                _ => return false,
            }
        }
    }

    /// One member: its key (refused with an escape when `plain_key`), then `value(self, key_start, key_end)` reads
    /// its value.
    fn member(&mut self, plain_key: bool, value: impl FnOnce(&mut Self, usize, usize) -> bool) -> bool {
        if self.peek() != Some(b'"') {
            return false;
        }
        let key_start = self.i;
        if !self.string() || (plain_key && self.escaped) {
            return false;
        }
        let key_end = self.i;
        self.ws();
        if self.peek() != Some(b':') {
            return false;
        }
        self.i += 1;
        self.ws();
        value(self, key_start, key_end)
    }

    fn array(&mut self, depth: u32) -> bool {
        depth <= MAX_DEPTH && self.list(b']', |s| s.value(depth))
    }

    /// At `{`: past the object; with `spans`, each member's key start, key end, value start, value end written.
    fn object(&mut self, depth: u32, mut spans: Option<&mut Out>) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        let record = spans.is_some();
        self.list(b'}', |s| {
            s.member(record, |s, key_start, key_end| {
                let value_start = s.i;
                if !s.value(depth) {
                    return false;
                }
                if let Some(out) = spans.as_deref_mut() {
                    out.push(key_start as u32);
                    out.push(key_end as u32);
                    out.push(value_start as u32);
                    out.push(s.i as u32);
                }
                true
            })
        })
    }

    /// At the `[` of `hits`: each object's start, end, member count and member spans written; the hit count.
    fn hits(&mut self, out: &mut Out) -> Option<u32> {
        let mut count = 0u32;
        let read = self.list(b']', |s| {
            if s.peek() != Some(b'{') {
                return false;
            }
            let at = out.pos;
            out.push(s.i as u32);
            out.push(0);
            out.push(0);
            if !s.object(2, Some(&mut *out)) {
                return false;
            }
            if !out.overflow {
                out.buf[at + 1] = s.i as u32;
                out.buf[at + 2] = ((out.pos - at - 3) / 4) as u32;
            }
            count += 1;
            true
        });
        read.then_some(count)
    }
}

/// Writes `[H, H × (start, end, M, M × (keyStart, keyEnd, valueStart, valueEnd)), T, T × (keyStart, keyEnd,
/// valueStart, valueEnd)]` into `out` — the hits, then the top-level members in order (the `hits` one included) —
/// and returns how many u32s it wrote; NOT_SCANNABLE when the text is not an object with exactly one `"hits"` member
/// (written without escapes) that is an array of objects, a key of the answer or of a hit holds an escape, or the
/// bytes are not UTF-8; OUT_TOO_SMALL when `out` cannot hold the spans.
pub fn scan_answer(b: &[u8], out: &mut [u32]) -> i64 {
    if b.len() >= u32::MAX as usize || std::str::from_utf8(b).is_err() {
        return NOT_SCANNABLE;
    }
    let mut s = Scanner { b, i: 0, escaped: false };
    let mut o = Out { buf: out, pos: 1, overflow: false };
    let mut top: Vec<u32> = Vec::with_capacity(32);
    let mut hit_count: Option<u32> = None;
    s.ws();
    if s.peek() != Some(b'{') {
        return NOT_SCANNABLE;
    }
    let read = s.list(b'}', |s| {
        s.member(true, |s, key_start, key_end| {
            let value_start = s.i;
            if &s.b[key_start..key_end] == b"\"hits\"" {
                if hit_count.is_some() || s.peek() != Some(b'[') {
                    return false;
                }
                match s.hits(&mut o) {
                    Some(n) => hit_count = Some(n),
                    None => return false,
                }
            } else if !s.value(1) {
                return false;
            }
            top.extend_from_slice(&[key_start as u32, key_end as u32, value_start as u32, s.i as u32]);
            true
        })
    });
    if !read {
        return NOT_SCANNABLE;
    }
    s.ws();
    let Some(h) = hit_count else { return NOT_SCANNABLE };
    if s.i != b.len() {
        return NOT_SCANNABLE;
    }
    o.push((top.len() / 4) as u32);
    for v in top {
        o.push(v);
    }
    if o.overflow || o.buf.is_empty() {
        return OUT_TOO_SMALL;
    }
    o.buf[0] = h;
    o.pos as i64
}

#[cfg(test)]
mod tests {
    use super::{scan_answer, NOT_SCANNABLE, OUT_TOO_SMALL};

    fn scan(t: &[u8]) -> Option<Vec<u32>> {
        let mut out = vec![0u32; 4096];
        let n = scan_answer(t, &mut out);
        if n < 0 {
            return None;
        }
        out.truncate(n as usize);
        Some(out)
    }

    #[test]
    fn spans_of_a_small_answer() {
        let t = br#"{"hits":[{"id":1,"_rankingScore":0.5},{}],"query":"a"}"#;
        let out = scan(t).unwrap();
        assert_eq!(out[0], 2);
        assert_eq!(&t[out[1] as usize..out[2] as usize], br#"{"id":1,"_rankingScore":0.5}"#);
        assert_eq!(out[3], 2);
        assert_eq!(&t[out[8] as usize..out[9] as usize], b"\"_rankingScore\"");
        assert_eq!(&t[out[10] as usize..out[11] as usize], b"0.5");
        assert_eq!(&t[out[12] as usize..out[13] as usize], b"{}");
        assert_eq!(out[14], 0);
        assert_eq!(out[15], 2);
        assert_eq!(&t[out[16] as usize..out[17] as usize], b"\"hits\"");
        assert_eq!(&t[out[20] as usize..out[21] as usize], b"\"query\"");
        assert_eq!(out.len(), 24);
        assert_eq!(scan_answer(t, &mut [0u32; 10]), OUT_TOO_SMALL);
    }

    #[test]
    fn refuses_what_json_refuses_or_the_merge_cannot_use() {
        for t in [
            &br#"{"hits":[1]}"#[..],
            br#"{"hits":[{"a":01}]}"#,
            br#"{"hits":[{"a":tru}]}"#,
            br#"{"hits":[],"hits":[]}"#,
            br#"{"query":"a"}"#,
            br#"{"hits":[{"a":"\x"}]}"#,
            br#"{"hits":[{"a":1,}]}"#,
            br#"{"hits":[{"\u0061":1}]}"#,
            br#"{"q\n":1,"hits":[]}"#,
            br#"{"hits":[]} x"#,
            b"{\"hits\":[{\"a\":\"\x01\"}]}",
        ] {
            assert_eq!(scan_answer(t, &mut [0u32; 64]), NOT_SCANNABLE, "{}", String::from_utf8_lossy(t));
        }
    }
}

#[cfg(test)]
mod speed {
    #[test]
    #[ignore]
    fn timing() {
        let b = std::fs::read("/tmp/stub-answer.json").unwrap();
        let t = std::time::Instant::now();
        let mut n = 0;
        let mut out = vec![0u32; 65536];
        for _ in 0..100_000 {
            n += super::scan_answer(&b, &mut out);
        }
        eprintln!("{:?} per scan ({n})", t.elapsed() / 100_000);
    }
}
