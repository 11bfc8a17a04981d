//! A byte stream given as pieces (the socket reads of a request body, as JS Buffers), read front to back
//! without first copying it into one buffer: copies of the next bytes, or the next 64-byte block in place.

pub struct Pieces<'a> {
    rest: std::slice::Iter<'a, &'a [u8]>,
    current: &'a [u8],
}

impl<'a> Pieces<'a> {
    pub fn new(pieces: &'a [&'a [u8]]) -> Self {
        Pieces { rest: pieces.iter(), current: &[] }
    }

    /// Copies the next bytes into `dst` until it is full or the stream ends; returns how many.
    pub fn read_into(&mut self, dst: &mut [u8]) -> usize {
        let mut n = 0;
        while n < dst.len() {
            if self.current.is_empty() {
                match self.rest.next() {
                    Some(p) => self.current = p,
                    None => break,
                }
                continue;
            }
            let take = (dst.len() - n).min(self.current.len());
            dst[n..n + take].copy_from_slice(&self.current[..take]);
            self.current = &self.current[take..];
            n += take;
        }
        n
    }

    /// The next 64-byte block: where it lies when inside one piece, else gathered into `gather`. None (and
    /// nothing consumed) when fewer than 64 bytes are left. The pointer is valid while the pieces and
    /// `gather` are.
    #[inline]
    pub fn next_block(&mut self, gather: &mut [u8; 64]) -> Option<*const u8> {
        if self.current.len() >= 64 {
            let p = self.current.as_ptr();
            self.current = &self.current[64..];
            return Some(p);
        }
        self.gather_block(gather)
    }

    /// Whole blocks left in the current piece (readable in place).
    #[inline]
    pub fn blocks_in_place(&self) -> usize {
        self.current.len() / 64
    }

    /// The next `n` whole blocks of the current piece (at most `blocks_in_place`), consumed.
    #[inline]
    pub fn take_blocks(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.current.split_at(64 * n);
        self.current = rest;
        head
    }

    #[cold]
    fn gather_block(&mut self, gather: &mut [u8; 64]) -> Option<*const u8> {
        // Skip to the next piece when the current one is used up, so that a block inside it is read in place.
        while self.current.is_empty() {
            self.current = self.rest.next()?;
            if self.current.len() >= 64 {
                return self.next_block(gather);
            }
        }
        let mut ahead = Pieces { rest: self.rest.clone(), current: self.current };
        if ahead.read_into(gather) < 64 {
            return None;
        }
        *self = ahead;
        Some(gather.as_ptr())
    }
}
