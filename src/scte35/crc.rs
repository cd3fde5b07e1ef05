//! CRC-32/MPEG-2 (ISO/IEC 13818-1 Annex A): polynomial 0x04C11DB7, initial value
//! 0xFFFFFFFF, no reflection, no final XOR. The `CRC_32` of a section makes the CRC
//! of the whole section, itself included, zero.
//!
//! Pure.

const fn tables() -> [[u32; 256]; 4] {
    let mut t = [[0u32; 256]; 4];
    let mut i = 0;
    while i < 256 {
        let mut c = (i as u32) << 24;
        let mut k = 0;
        while k < 8 {
            c = if c & 0x8000_0000 != 0 {
                (c << 1) ^ 0x04C1_1DB7
            } else {
                c << 1
            };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    // Slicing by 4: t[k][i] is the CRC of byte i followed by k zero bytes.
    let mut k = 1;
    while k < 4 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev << 8) ^ t[0][(prev >> 24) as usize];
            i += 1;
        }
        k += 1;
    }
    t
}

static TABLES: [[u32; 256]; 4] = tables();

/// CRC-32/MPEG-2 of `data`.
pub fn crc32_mpeg2(data: &[u8]) -> u32 {
    let [t0, t1, t2, t3] = &TABLES;
    let mut crc = 0xFFFF_FFFFu32;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        crc ^= u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
        crc = t3[(crc >> 24) as usize]
            ^ t2[((crc >> 16) & 0xFF) as usize]
            ^ t1[((crc >> 8) & 0xFF) as usize]
            ^ t0[(crc & 0xFF) as usize];
    }
    for &b in chunks.remainder() {
        crc = (crc << 8) ^ t0[((crc >> 24) as u8 ^ b) as usize];
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value() {
        // The catalogue check value of CRC-32/MPEG-2.
        assert_eq!(crc32_mpeg2(b"123456789"), 0x0376_E6E7);
        assert_eq!(crc32_mpeg2(b""), 0xFFFF_FFFF);
    }

    #[test]
    fn sliced_matches_bytewise_for_every_length() {
        let data: Vec<u8> = (0..67u32).map(|i| (i * 151 + 7) as u8).collect();
        for n in 0..data.len() {
            let mut crc = 0xFFFF_FFFFu32;
            for &b in &data[..n] {
                crc = (crc << 8) ^ TABLES[0][((crc >> 24) as u8 ^ b) as usize];
            }
            assert_eq!(crc32_mpeg2(&data[..n]), crc, "{n}");
        }
    }

    #[test]
    fn a_section_with_its_crc_sums_to_zero() {
        let mut data = b"splicepoint".to_vec();
        let crc = crc32_mpeg2(&data);
        data.extend_from_slice(&crc.to_be_bytes());
        assert_eq!(crc32_mpeg2(&data), 0);
    }
}
