//! Copies of message bodies that stay at memory speed where glibc's `memcpy` does not.
//!
//! glibc (2.36, x86-64) copies blocks from about 2 KiB (`x86_rep_movsb_threshold`) to far
//! past 1 MiB with `rep movsb`, and on the AMD EPYC hosts this project runs on, `rep movsb`
//! runs 15 times slower when the destination lies 1 to 31 bytes after the source modulo
//! 4 KiB: a hot 64 KiB copy takes 23 µs there against 1.5 µs at any other distance
//! (`benchmarks/results-large.md`, "The binding's copy into `bytes`"). Where a receive's
//! `bytes` lands is malloc's choice, so half the 64 KiB messages of a stream paid it.
//! [`copy_bytes`] copies such a block in pieces of 2 KiB, which glibc copies with vector moves
//! (its own loop copies backwards at a short distance), at full speed.

/// Pieces of this size stay below glibc's `rep movsb` threshold (2,112 bytes here).
const PIECE: usize = 2048;
/// The distances (destination after source, modulo a page) copied in pieces: the slow band
/// measured on AMD EPYC is 1-31 bytes; up to 127, as libnanomsg's patch 0070 places its own
/// copies, covers the milder slowdowns seen on other CPUs (1.4-1.9 µs at 24-112 bytes).
const SHORT_DISTANCE: usize = 128;
const PAGE: usize = 4096;

/// Copies `src` into `dst` (of the same length), in pieces where one `memcpy` would be slow.
///
/// # Panics
/// When the lengths differ, as [`slice::copy_from_slice`] does.
#[inline]
pub fn copy_bytes(dst: &mut [u8], src: &[u8]) {
    assert_eq!(dst.len(), src.len(), "copy_bytes: lengths differ");
    let distance = (dst.as_ptr() as usize).wrapping_sub(src.as_ptr() as usize) % PAGE;
    if src.len() <= PIECE || distance == 0 || distance >= SHORT_DISTANCE {
        dst.copy_from_slice(src);
    } else {
        for (to, from) in dst.chunks_mut(PIECE).zip(src.chunks(PIECE)) {
            to.copy_from_slice(from);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every distance in and around the band, lengths at and around the piece size: the
    /// copy is exact and touches nothing past the destination.
    #[test]
    fn copies_exactly_at_every_distance() {
        let src: Vec<u8> = (0..70_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
        let mut dst = vec![0xAAu8; 80_000];
        for len in [0, 1, 2047, 2048, 2049, 4096, 6145, 65_536] {
            for shift in [0, 1, 8, 31, 32, 127, 128, 4095] {
                dst.fill(0xAA);
                let base = dst.as_ptr() as usize;
                // the destination's offset that puts it `shift` bytes after the source
                let at = (src.as_ptr() as usize + shift).wrapping_sub(base) % 4096;
                copy_bytes(&mut dst[at..at + len], &src[..len]);
                assert_eq!(&dst[at..at + len], &src[..len], "len {len} shift {shift}");
                assert!(dst[..at].iter().all(|&b| b == 0xAA));
                assert!(dst[at + len..].iter().all(|&b| b == 0xAA));
            }
        }
    }

    #[test]
    #[should_panic(expected = "lengths differ")]
    fn refuses_slices_of_different_lengths() {
        copy_bytes(&mut [0u8; 3], &[1u8; 4]);
    }
}
