//! A minimal reader of Thrift's compact protocol, enough to check what a hostile file declares before
//! the parquet crate acts on it: the nesting of the footer's schema (the crate builds the schema tree
//! by recursion) and each page header's sizes (the crate allocates and decompresses by them).
//! Everything is bounded: lengths are checked against the bytes left, nesting against a depth limit.

pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// Compact protocol type codes.
pub const T_STOP: u8 = 0;
const T_TRUE: u8 = 1;
const T_FALSE: u8 = 2;
const T_BYTE: u8 = 3;
const T_I16: u8 = 4;
pub const T_I32: u8 = 5;
const T_I64: u8 = 6;
const T_DOUBLE: u8 = 7;
const T_BINARY: u8 = 8;
pub const T_LIST: u8 = 9;
const T_SET: u8 = 10;
const T_MAP: u8 = 11;
pub const T_STRUCT: u8 = 12;

/// Nesting of Thrift structs skipped (the Parquet format itself nests a few levels).
const MAX_SKIP_DEPTH: u32 = 32;

pub type ThriftResult<T> = std::result::Result<T, String>;

fn short() -> String {
    "truncated Thrift data".to_string()
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    fn byte(&mut self) -> ThriftResult<u8> {
        let b = *self.buf.get(self.pos).ok_or_else(short)?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self) -> ThriftResult<u64> {
        let mut out = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            if shift == 63 && b > 1 {
                return Err("Thrift varint overflows 64 bits".into());
            }
            out |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(out);
            }
        }
        Err("Thrift varint too long".into())
    }

    pub fn zigzag(&mut self) -> ThriftResult<i64> {
        let v = self.varint()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    fn skip_bytes(&mut self, n: u64) -> ThriftResult<()> {
        let left = (self.buf.len() - self.pos) as u64;
        if n > left {
            return Err(short());
        }
        self.pos += n as usize;
        Ok(())
    }

    /// The next field header of a struct: (field id, type), type T_STOP at the end.
    pub fn field(&mut self, last_id: i16) -> ThriftResult<(i16, u8)> {
        let b = self.byte()?;
        let ty = b & 0x0f;
        if ty == T_STOP {
            return Ok((0, T_STOP));
        }
        let delta = (b >> 4) as i16;
        let id = if delta == 0 { self.zigzag()? as i16 } else { last_id.wrapping_add(delta) };
        Ok((id, ty))
    }

    /// A list header: (element type, count); the count is checked against the bytes left.
    pub fn list(&mut self) -> ThriftResult<(u8, u64)> {
        let b = self.byte()?;
        let ty = b & 0x0f;
        let n = if b >> 4 == 15 { self.varint()? } else { u64::from(b >> 4) };
        if n > (self.buf.len() - self.pos) as u64 {
            return Err("Thrift list longer than its data".into());
        }
        Ok((ty, n))
    }

    /// Skips one value of type `ty`.
    pub fn skip(&mut self, ty: u8) -> ThriftResult<()> {
        self.skip_depth(ty, 0)
    }

    fn skip_depth(&mut self, ty: u8, depth: u32) -> ThriftResult<()> {
        if depth > MAX_SKIP_DEPTH {
            return Err("Thrift data nested too deeply".into());
        }
        match ty {
            T_TRUE | T_FALSE => Ok(()),
            T_BYTE => self.byte().map(|_| ()),
            T_I16 | T_I32 | T_I64 => self.varint().map(|_| ()),
            T_DOUBLE => self.skip_bytes(8),
            T_BINARY => {
                let n = self.varint()?;
                self.skip_bytes(n)
            }
            T_LIST | T_SET => {
                let (elem, n) = self.list()?;
                for _ in 0..n {
                    if elem == T_TRUE || elem == T_FALSE {
                        self.byte()?; // booleans in a list take a byte each
                    } else {
                        self.skip_depth(elem, depth + 1)?;
                    }
                }
                Ok(())
            }
            T_MAP => {
                let n = self.varint()?;
                if n == 0 {
                    return Ok(());
                }
                if n > (self.buf.len() - self.pos) as u64 {
                    return Err("Thrift map longer than its data".into());
                }
                let kv = self.byte()?;
                for _ in 0..n {
                    self.skip_depth(kv >> 4, depth + 1)?;
                    self.skip_depth(kv & 0x0f, depth + 1)?;
                }
                Ok(())
            }
            T_STRUCT => {
                let mut last = 0;
                loop {
                    let (id, t) = self.field(last)?;
                    if t == T_STOP {
                        return Ok(());
                    }
                    self.skip_depth(t, depth + 1)?;
                    last = id;
                }
            }
            _ => Err(format!("unknown Thrift type {ty}")),
        }
    }
}

/// The schema elements' `num_children` (0 for leaves), in footer order, read from FileMetaData.
pub fn schema_children(footer: &[u8]) -> ThriftResult<Vec<u32>> {
    let mut r = Reader::new(footer);
    let mut last = 0;
    loop {
        let (id, ty) = r.field(last)?;
        if ty == T_STOP {
            return Err("the footer has no schema".into());
        }
        if id == 2 && ty == T_LIST {
            let (elem, n) = r.list()?;
            if elem != T_STRUCT {
                return Err("the schema is not a list of elements".into());
            }
            let mut out = Vec::with_capacity(n as usize);
            for _ in 0..n {
                let mut children = 0u32;
                let mut last_field = 0;
                loop {
                    let (fid, fty) = r.field(last_field)?;
                    if fty == T_STOP {
                        break;
                    }
                    if fid == 5 && fty == T_I32 {
                        let c = r.zigzag()?;
                        children = u32::try_from(c).map_err(|_| "negative num_children".to_string())?;
                    } else {
                        r.skip(fty)?;
                    }
                    last_field = fid;
                }
                out.push(children);
            }
            return Ok(out);
        }
        r.skip(ty)?;
        last = id;
    }
}

/// Depth of the schema tree the flat element list describes (the root at depth 0).
pub fn schema_depth(children: &[u32]) -> ThriftResult<usize> {
    let mut remaining: Vec<u32> = Vec::new();
    let mut depth = 0;
    for (i, &c) in children.iter().enumerate() {
        if i > 0 {
            while remaining.last() == Some(&0) {
                remaining.pop();
            }
            match remaining.last_mut() {
                Some(r) => *r -= 1,
                None => return Err("the schema has more elements than its root declares".into()),
            }
        }
        if c > 0 || i == 0 {
            remaining.push(c);
            depth = depth.max(remaining.len());
        }
    }
    Ok(depth)
}

/// What a page header declares.
pub struct PageSizes {
    pub header_len: usize,
    pub compressed: usize,
    pub uncompressed: usize,
    /// False for a v2 data page stored without compression.
    pub is_compressed: bool,
    /// Bytes of a v2 data page's levels, stored uncompressed before the values.
    pub levels_len: usize,
    /// The page type (0 data, 1 index, 2 dictionary, 3 data v2); -1 when absent.
    pub page_type: i64,
    /// A data page's (v1 or v2) values encoding; -1 for other pages.
    pub encoding: i64,
}

/// Encodings of dictionary indices (PLAIN_DICTIONARY, RLE_DICTIONARY).
pub const DICTIONARY_INDICES: [i64; 2] = [2, 8];
pub const DATA_PAGE: i64 = 0;
pub const DICTIONARY_PAGE: i64 = 2;
pub const DATA_PAGE_V2: i64 = 3;

/// Reads the page header at the start of `buf`.
pub fn page_header(buf: &[u8]) -> ThriftResult<PageSizes> {
    let mut r = Reader::new(buf);
    let (mut compressed, mut uncompressed) = (None, None);
    let (mut is_compressed, mut levels_len) = (true, 0usize);
    let (mut page_type, mut encoding) = (-1, -1);
    let mut last = 0;
    loop {
        let (id, ty) = r.field(last)?;
        if ty == T_STOP {
            break;
        }
        match (id, ty) {
            (1, T_I32) => page_type = r.zigzag()?,
            (2, T_I32) => uncompressed = Some(r.zigzag()?),
            (3, T_I32) => compressed = Some(r.zigzag()?),
            (5, T_STRUCT) => {
                // DataPageHeader: 2 is the values encoding.
                let mut l = 0;
                loop {
                    let (fid, fty) = r.field(l)?;
                    if fty == T_STOP {
                        break;
                    }
                    match (fid, fty) {
                        (2, T_I32) => encoding = r.zigzag()?,
                        _ => r.skip(fty)?,
                    }
                    l = fid;
                }
            }
            (8, T_STRUCT) => {
                // DataPageHeaderV2: 4 is the values encoding, 5 and 6 the level lengths, 7 is_compressed.
                let mut l = 0;
                loop {
                    let (fid, fty) = r.field(l)?;
                    if fty == T_STOP {
                        break;
                    }
                    match (fid, fty) {
                        (4, T_I32) => encoding = r.zigzag()?,
                        (5, T_I32) | (6, T_I32) => {
                            let n = r.zigzag()?;
                            levels_len =
                                levels_len.saturating_add(usize::try_from(n).map_err(|_| "negative level length")?);
                        }
                        (7, T_FALSE) => is_compressed = false,
                        (7, T_TRUE) => is_compressed = true,
                        _ => r.skip(fty)?,
                    }
                    l = fid;
                }
            }
            _ => r.skip(ty)?,
        }
        last = id;
    }
    let size = |v: Option<i64>, what: &str| -> ThriftResult<usize> {
        let v = v.ok_or_else(|| format!("a page header has no {what} size"))?;
        usize::try_from(v).map_err(|_| format!("a page header declares a negative {what} size"))
    };
    Ok(PageSizes {
        header_len: r.position(),
        compressed: size(compressed, "compressed")?,
        uncompressed: size(uncompressed, "uncompressed")?,
        is_compressed,
        levels_len,
        page_type,
        encoding,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_of_flat_schemas() {
        assert_eq!(schema_depth(&[2, 0, 0]).unwrap(), 1);
        assert_eq!(schema_depth(&[1, 1, 1, 0]).unwrap(), 3);
        assert!(schema_depth(&[1, 0, 0]).is_err());
    }

    #[test]
    fn hostile_thrift_is_an_error() {
        // A list declaring 2^31 elements in 8 bytes, a field of unknown type, deep structs.
        assert!(Reader::new(&[0x19, 0xfc, 0xff, 0xff, 0xff, 0x07]).skip(T_STRUCT).is_err());
        assert!(Reader::new(&[0x1d]).skip(T_STRUCT).is_err());
        let deep = vec![0x1c; 1000];
        assert!(Reader::new(&deep).skip(T_STRUCT).is_err());
        assert!(page_header(&[]).is_err());
    }
}
