//! A bit reader and a bit writer over byte slices, in the manner of rustls' `Reader`:
//! every read names the field it wants, and running out of data is an error that
//! says which field, never a panic.
//!
//! Pure.

use super::DecodeError;

/// Reads big-endian bit fields from a byte slice.
#[derive(Debug, Clone)]
pub(crate) struct BitReader<'a> {
    buf: &'a [u8],
    /// Position in bits from the start of `buf`.
    pos: usize,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bits left.
    pub(crate) fn bits_left(&self) -> usize {
        self.buf.len() * 8 - self.pos
    }

    /// Whole bytes left (the reader is expected to be byte aligned).
    pub(crate) fn bytes_left(&self) -> usize {
        self.bits_left() / 8
    }

    /// Read `n` (≤ 64) bits as an unsigned integer.
    pub(crate) fn bits(&mut self, n: u32, field: &'static str) -> Result<u64, DecodeError> {
        debug_assert!(n <= 64);
        let n = n as usize;
        if n > self.bits_left() {
            return Err(DecodeError::MissingData(field));
        }
        // The (at most 9) bytes that hold the field, then shift and mask it out.
        let (start, end_bit) = (self.pos / 8, self.pos + n);
        let end = end_bit.div_ceil(8);
        let acc = self.buf[start..end]
            .iter()
            .fold(0u128, |acc, &b| (acc << 8) | u128::from(b));
        let shift = (end - start) * 8 - (self.pos % 8) - n;
        self.pos = end_bit;
        Ok(((acc >> shift) & ((1u128 << n) - 1)) as u64)
    }

    pub(crate) fn flag(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        Ok(self.bits(1, field)? == 1)
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.bits(8, field)? as u8)
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        Ok(self.bits(16, field)? as u16)
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        Ok(self.bits(32, field)? as u32)
    }

    pub(crate) fn skip(&mut self, n: u32, field: &'static str) -> Result<(), DecodeError> {
        self.bits(n, field).map(drop)
    }

    /// The next `n` whole bytes (the cursor must be byte aligned).
    pub(crate) fn bytes(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.pos % 8 != 0 {
            return Err(DecodeError::Invalid(field));
        }
        let start = self.pos / 8;
        let end = start
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or(DecodeError::MissingData(field))?;
        self.pos = end * 8;
        Ok(&self.buf[start..end])
    }

    /// A sub-reader over the next `n` bytes, consuming them here.
    pub(crate) fn sub(
        &mut self,
        n: usize,
        field: &'static str,
    ) -> Result<BitReader<'a>, DecodeError> {
        Ok(BitReader::new(self.bytes(n, field)?))
    }

    /// Everything left (byte aligned).
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let start = self.pos.div_ceil(8).min(self.buf.len());
        self.pos = self.buf.len() * 8;
        &self.buf[start..]
    }
}

/// Writes big-endian bit fields.
#[derive(Debug, Default)]
pub(crate) struct BitWriter {
    buf: Vec<u8>,
    /// Bits used in the last byte (0 = aligned).
    used: u32,
}

impl BitWriter {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Write the low `n` (≤ 64) bits of `value`.
    pub(crate) fn bits(&mut self, n: u32, value: u64) {
        let mut left = n;
        while left > 0 {
            if self.used == 0 {
                self.buf.push(0);
            }
            let free = 8 - self.used;
            let take = free.min(left);
            let chunk = ((value >> (left - take)) & ((1u64 << take) - 1)) as u8;
            if let Some(last) = self.buf.last_mut() {
                *last |= chunk << (free - take);
            }
            self.used = (self.used + take) % 8;
            left -= take;
        }
    }

    pub(crate) fn flag(&mut self, v: bool) {
        self.bits(1, u64::from(v));
    }

    /// Reserved bits: all ones, as the standard asks.
    pub(crate) fn reserved(&mut self, n: u32) {
        self.bits(n, u64::MAX);
    }

    pub(crate) fn u8(&mut self, v: u8) {
        self.bits(8, u64::from(v));
    }

    pub(crate) fn u16(&mut self, v: u16) {
        self.bits(16, u64::from(v));
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.bits(32, u64::from(v));
    }

    /// Whole bytes (the writer must be byte aligned).
    pub(crate) fn bytes(&mut self, b: &[u8]) {
        debug_assert_eq!(self.used, 0);
        self.buf.extend_from_slice(b);
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_across_byte_boundaries() {
        let mut r = BitReader::new(&[0b1010_1100, 0xFF, 0x01]);
        assert_eq!(r.bits(1, "a").unwrap(), 1);
        assert_eq!(r.bits(3, "b").unwrap(), 0b010);
        assert_eq!(r.bits(12, "c").unwrap(), 0b1100_1111_1111);
        assert_eq!(r.u8("d").unwrap(), 1);
        assert_eq!(r.bits(1, "e"), Err(DecodeError::MissingData("e")));
    }

    #[test]
    fn writer_is_the_inverse() {
        let mut w = BitWriter::new();
        w.bits(1, 1);
        w.bits(33, 0x1_2345_6789);
        w.reserved(6);
        w.u16(0xBEEF);
        let bytes = w.into_bytes();
        let mut r = BitReader::new(&bytes);
        assert_eq!(r.bits(1, "").unwrap(), 1);
        assert_eq!(r.bits(33, "").unwrap(), 0x1_2345_6789);
        assert_eq!(r.bits(6, "").unwrap(), 0x3F);
        assert_eq!(r.u16("").unwrap(), 0xBEEF);
        assert_eq!(r.bits_left(), 0);
    }
}
