//! A pass over a GET batch's bytes in the pool task that reads and checks them (`readShardsFramesPassAsync`):
//! S3 Select's CSV or JSON LINES line filter judges each data shard's piece right after its frame's hash check,
//! while the bytes are still in the cache the read and the hash left them in, and the batch costs the event loop
//! one pool task and one wake-up where the read and the filter took one each. Storage hands the `PiecePass` on
//! without knowing what it does; the select engine arms it once it knows the test (CSV: after the header).
use std::sync::{Arc, OnceLock};

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::frames::{check_shard_reads, read_shard_frames_each};
use crate::highway::{key_of, HH_LEN};
use crate::{select_csv, select_json};

/// The line test a pass runs: CSV's (as `csvLineFilter` takes it) or JSON LINES' (as `jsonLineFilter` does).
enum Lines {
    Csv { spec: select_csv::Spec, text: Vec<u8> },
    Json { spec: select_json::Spec, name: Vec<u8>, text: Vec<u8> },
}

/// A `Lines` made ready to run (its texts borrowed).
#[derive(Clone, Copy)]
enum Test<'a> {
    Csv(select_csv::LineTest<'a>),
    Json(select_json::LineTest<'a>),
}

impl Lines {
    fn test(&self) -> Result<Test<'_>> {
        Ok(match self {
            Lines::Csv { spec, text } => Test::Csv(select_csv::LineTest::new(*spec, text)?),
            Lines::Json { spec, name, text } => Test::Json(select_json::LineTest::new(name, *spec, text)?),
        })
    }
}

impl Test<'_> {
    fn filter_piece_into(self, piece: &[u8], out: &mut Vec<u8>) {
        match self {
            Test::Csv(t) => select_csv::filter_piece_into(piece, t, out),
            Test::Json(t) => select_json::filter_piece_into(piece, t, out),
        }
    }
}

/// What a batch's pieces go through; unarmed, nothing (the batch's bytes go to their reader as read).
///
/// Armed through `&self` (a cell set once): napi-rs refuses a `&mut` borrow of an object that a call being made
/// with it (a read given the pass) borrows.
#[napi]
#[derive(Default)]
pub struct PiecePass {
    lines: OnceLock<Arc<Lines>>,
}

#[napi]
impl PiecePass {
    #[napi(constructor)]
    pub fn new() -> Self {
        PiecePass::default()
    }

    /// From now on, reads given this pass leave out of each piece the complete lines inside it where the CSV
    /// line test is certainly false (arguments as `csvLineFilter`'s). Once: arming an armed pass throws.
    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn arm_csv_lines(
        &self,
        text: &[u8],
        field: u32,
        field_delimiter: u32,
        record_delimiter: u32,
        quote: i32,
        kind: u32,
        op: u32,
        bound: f64,
    ) -> Result<()> {
        let spec = select_csv::Spec::new(field, field_delimiter, record_delimiter, quote, kind, op, bound)?;
        self.arm(Lines::Csv { spec, text: text.to_vec() })
    }

    /// From now on, reads given this pass leave out of each piece the complete lines inside it where the JSON
    /// LINES line test is certainly false (arguments as `jsonLineFilter`'s). Once: arming an armed pass throws.
    #[napi]
    pub fn arm_json_lines(&self, name: &[u8], text: &[u8], kind: u32, op: u32, bound: f64) -> Result<()> {
        let spec = select_json::Spec::new(kind, op, bound)?;
        self.arm(Lines::Json { spec, name: name.to_vec(), text: text.to_vec() })
    }

    fn arm(&self, lines: Lines) -> Result<()> {
        let armed = || Error::new(Status::InvalidArg, "PiecePass: armed already");
        if self.lines.get().is_some() {
            return Err(armed());
        }
        lines.test()?; // the texts' checks, now rather than in the pool
        self.lines.set(Arc::new(lines)).map_err(|_| armed())
    }

    /// Whether the pass has a test.
    #[napi(getter)]
    pub fn armed(&self) -> bool {
        self.lines.get().is_some()
    }
}

/// What `readShardsFramesPassAsync` resolves to.
#[napi(object)]
pub struct PassedRead {
    /// Frames that failed their check, per file (as `readShardsFramesAsync`).
    pub bad: Vec<u32>,
    /// The pieces' bytes through the pass, joined in the pieces' order; null when the pass was not armed at the
    /// call or a frame failed (the reader then has only the pieces as read).
    pub passed: Option<Buffer>,
}

/// One piece: bytes `[at, at + len)` of output `out`, inside one frame's shard.
#[derive(Clone, Copy)]
struct Piece {
    out: usize,
    at: usize,
    len: usize,
}

/// The task of `readShardsFramesPassAsync`.
pub struct ReadPassTask {
    paths: Vec<String>,
    positions: Vec<i64>,
    stride: usize,
    outs: Vec<Buffer>,
    key: highway::Key,
    lines: Option<Arc<Lines>>,
    pieces: Vec<Piece>,
}

/// `pieces` as triples (output index, offset, length), each inside the shard of one frame of its output.
fn pieces_of(flat: &[u32], outs: &[Buffer], stride: usize) -> Result<Vec<Piece>> {
    let bad = || Error::new(Status::InvalidArg, "readShardsFramesPass: a piece outside a frame's shard");
    if !flat.len().is_multiple_of(3) {
        return Err(bad());
    }
    flat.chunks_exact(3)
        .map(|t| {
            let p = Piece { out: t[0] as usize, at: t[1] as usize, len: t[2] as usize };
            let inside = p.out < outs.len()
                && p.len > 0
                && p.at + p.len <= outs[p.out].len()
                && p.at % stride >= HH_LEN
                && p.at / stride == (p.at + p.len - 1) / stride;
            if inside {
                Ok(p)
            } else {
                Err(bad())
            }
        })
        .collect()
}

/// Reads the files as `readShardsFramesAsync` does; with `lines`, each piece goes through the line filter as soon
/// as the frame holding it passed its check. The outputs, joined in the pieces' order, when every frame passed.
fn read_pass(t: &mut ReadPassTask) -> Result<(Vec<u32>, Option<Vec<u8>>)> {
    let mut bad = Vec::with_capacity(t.paths.len());
    let mut outputs: Vec<Vec<u8>> = vec![Vec::new(); t.pieces.len()];
    let lines = t.lines.clone();
    let test = match &lines {
        Some(l) => Some(l.test()?),
        None => None,
    };
    for (k, ((path, position), out)) in t.paths.iter().zip(&t.positions).zip(t.outs.iter_mut()).enumerate() {
        // This file's pieces, by frame.
        let mine: Vec<(usize, Piece)> = t.pieces.iter().copied().enumerate().filter(|(_, p)| p.out == k).collect();
        let stride = t.stride;
        let n = read_shard_frames_each(path, *position as u64, stride, out, Some(t.key), |at, frame| {
            let Some(test) = test else { return };
            for (i, p) in &mine {
                if p.at / stride == at / stride {
                    let o = &mut outputs[*i];
                    o.reserve(p.len / 32);
                    test.filter_piece_into(&frame[p.at - at..p.at - at + p.len], o);
                }
            }
        })?;
        bad.push(n);
    }
    if test.is_none() || bad.iter().any(|&b| b > 0) {
        return Ok((bad, None));
    }
    let mut joined = Vec::with_capacity(outputs.iter().map(Vec::len).sum());
    for o in &outputs {
        joined.extend_from_slice(o);
    }
    Ok((bad, Some(joined)))
}

#[napi]
impl Task for ReadPassTask {
    type Output = (Vec<u32>, Option<Vec<u8>>);
    type JsValue = PassedRead;

    fn compute(&mut self) -> Result<Self::Output> {
        read_pass(self)
    }

    fn resolve(&mut self, _env: Env, (bad, passed): Self::Output) -> Result<PassedRead> {
        Ok(PassedRead { bad, passed: passed.map(Buffer::from) })
    }
}

/// `readShardsFramesAsync` (always checking) with `pass` run in the same pool task: `pieces` are triples
/// (index into `outs`, offset, length), each inside one frame's shard, in the order their bytes follow each other
/// in the object. When `pass` is armed at this call and every frame passes its check, `passed` is the pieces'
/// bytes through it, joined in that order (S3 Select's CSV or JSON lines: the complete lines inside a piece that
/// the test certainly rejects left out; a piece's first and last line go through whole). Every `outs[i]` must stay
/// unchanged until it settles.
#[napi]
pub fn read_shards_frames_pass_async(
    paths: Vec<String>,
    positions: Vec<i64>,
    stride: u32,
    outs: Vec<Buffer>,
    key: &[u8],
    pass: &PiecePass,
    pieces: Vec<u32>,
) -> Result<AsyncTask<ReadPassTask>> {
    check_shard_reads("readShardsFramesPass", &paths, &positions, outs.len(), stride)?;
    let key = key_of(key)?;
    let pieces = pieces_of(&pieces, &outs, stride as usize)?;
    let lines = pass.lines.get().cloned();
    Ok(AsyncTask::new(ReadPassTask { paths, positions, stride: stride as usize, outs, key, lines, pieces }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::select_csv::{filter_lines, filter_piece_into, LineTest, Spec};

    fn test_of(text: &[u8]) -> (Spec, Vec<u8>) {
        (Spec::new(1, b',' as u32, b'\n' as u32, b'"' as i32, 0, 2, 1000.0).unwrap(), text.to_vec())
    }

    /// The pieces' outputs, joined: the text's lines in order, some the test rejects left out, none it keeps.
    #[test]
    fn pieces_through_the_filter_keep_what_the_whole_keeps() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let (spec, lit) = test_of(b"");
        let test = LineTest::new(spec, &lit).unwrap();
        for _ in 0..300 {
            let mut text = Vec::new();
            for i in 0..next(200) {
                let v = next(3000);
                let q = if next(20) == 0 { "\"" } else { "" };
                text.extend_from_slice(format!("{i},{q}{v}{q},x\n").as_bytes());
            }
            if next(2) == 0 {
                text.extend_from_slice(b"9,1");
            }
            let mut cuts = vec![0, text.len()];
            for _ in 0..next(6) {
                cuts.push(next(text.len() as u64 + 1) as usize);
            }
            cuts.sort();
            let mut joined = Vec::new();
            for w in cuts.windows(2) {
                filter_piece_into(&text[w[0]..w[1]], test, &mut joined);
            }
            assert_eq!(filter_lines(&joined, test), filter_lines(&text, test));
            // Only whole lines of the text are left out, in order.
            let lines = |b: &[u8]| b.split_inclusive(|&c| c == b'\n').map(<[u8]>::to_vec).collect::<Vec<_>>();
            let all = lines(&text);
            let mut at = 0;
            for l in lines(&joined) {
                while at < all.len() && all[at] != l {
                    at += 1;
                }
                assert!(at < all.len(), "a line the text does not hold: {:?}", String::from_utf8_lossy(&l));
                at += 1;
            }
        }
    }

    /// JSON LINES pieces: the same, with the JSON test (`v < 1000`), through the pass's own dispatch.
    #[test]
    fn json_pieces_through_the_filter_keep_what_the_whole_keeps() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let lines =
            Lines::Json { spec: select_json::Spec::new(1, 2, 1000.0).unwrap(), name: b"v".to_vec(), text: vec![] };
        let test = lines.test().unwrap();
        let Test::Json(json) = test else { unreachable!() };
        for _ in 0..300 {
            let mut text = Vec::new();
            for i in 0..next(200) {
                let v = next(3000);
                let line = if next(25) == 0 {
                    format!("{{\"i\":{i},\"v\":\"{v}\"}}\n")
                } else {
                    format!("{{\"i\":{i},\"v\":{v}}}\n")
                };
                text.extend_from_slice(line.as_bytes());
            }
            if next(2) == 0 {
                text.extend_from_slice(b"{\"v\":5000}");
            }
            let mut cuts = vec![0, text.len()];
            for _ in 0..next(6) {
                cuts.push(next(text.len() as u64 + 1) as usize);
            }
            cuts.sort();
            let mut joined = Vec::new();
            for w in cuts.windows(2) {
                test.filter_piece_into(&text[w[0]..w[1]], &mut joined);
            }
            assert_eq!(select_json::filter_lines(&joined, json), select_json::filter_lines(&text, json));
            let split = |b: &[u8]| b.split_inclusive(|&c| c == b'\n').map(<[u8]>::to_vec).collect::<Vec<_>>();
            let all = split(&text);
            let mut at = 0;
            for l in split(&joined) {
                while at < all.len() && all[at] != l {
                    at += 1;
                }
                assert!(at < all.len(), "a line the text does not hold: {:?}", String::from_utf8_lossy(&l));
                at += 1;
            }
            if cuts.len() == 2 && text.ends_with(b"\n") && text.len() > 2000 {
                assert!(joined.len() < text.len(), "whole lines rejected are left out");
            }
        }
    }

    #[test]
    fn a_piece_without_a_line_end_goes_through_whole() {
        let (spec, lit) = test_of(b"");
        let test = LineTest::new(spec, &lit).unwrap();
        let mut out = Vec::new();
        filter_piece_into(b"1,5000,x", test, &mut out);
        assert_eq!(out, b"1,5000,x");
        out.clear();
        filter_piece_into(b"head\n1,5000\n2,5\n3,7000\ntail", test, &mut out);
        assert_eq!(out, b"head\n2,5\ntail");
    }
}
