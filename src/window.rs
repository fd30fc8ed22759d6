//! Network windows: one-hot encoding of DNA as the trained weights expect it.
//!
//! Channel order is A, G, C, T (the DeepSEA convention). Letters are uppercased
//! first (soft-masked genome sequence counts); anything but A/C/G/T (N, IUPAC
//! codes, gaps) is an all-zero column. Shorter sequences are zero-padded on the
//! right; longer ones are refused.

use crate::error::{Error, Result};

/// Channel names in encoding order.
pub const CHANNEL_ORDER: [char; 4] = ['A', 'G', 'C', 'T'];

/// Channel index of a base, `None` for anything that is not A/C/G/T in any case.
#[inline]
pub fn channel(base: u8) -> Option<usize> {
    match base.to_ascii_uppercase() {
        b'A' => Some(0),
        b'G' => Some(1),
        b'C' => Some(2),
        b'T' => Some(3),
        _ => None,
    }
}

/// Writes the one-hot encoding of `seq` into `out`, laid out channel-major
/// (`out[c * window + i]`), `out.len() == 4 * window`. `name` is used in errors.
pub fn encode_into(name: &str, seq: &[u8], window: usize, out: &mut [f32]) -> Result<()> {
    if seq.len() > window {
        return Err(Error::Sequence {
            name: name.to_string(),
            message: format!(
                "{} bp is longer than the model's {window} bp window (cut it to at most {window} bp)",
                seq.len()
            ),
        });
    }
    assert_eq!(
        out.len(),
        4 * window,
        "output buffer must hold 4 x window values"
    );
    out.fill(0.0);
    for (i, &b) in seq.iter().enumerate() {
        if let Some(c) = channel(b) {
            out[c * window + i] = 1.0;
        }
    }
    Ok(())
}

/// One-hot encoding of `seq` as a fresh `4 * window` vector (see [`encode_into`]).
pub fn encode(name: &str, seq: &[u8], window: usize) -> Result<Vec<f32>> {
    let mut out = vec![0.0; 4 * window];
    encode_into(name, seq, window, &mut out)?;
    Ok(out)
}

/// 0-based index of a variant's first REF base in its window: 1-based VCF POS
/// sits at index 499 of a 1000 bp window, i.e. the window is [POS-500, POS+500).
pub fn variant_offset(window: usize) -> usize {
    window / 2 - 1
}

/// Bases to fetch for a variant, relative to the window start: the window
/// plus the REF length, enough right flank for any deletion.
pub fn variant_fetch_len(window: usize, ref_len: usize) -> usize {
    window + ref_len
}

/// REF and ALT windows from `flank` (genome bases from the window start, at
/// least [`variant_fetch_len`] long). ALT replaces REF in place at `offset`:
/// deletions pull in more right flank, insertions push it out; the window
/// start never moves.
pub fn allele_windows(
    flank: &[u8],
    offset: usize,
    ref_len: usize,
    alt: &[u8],
    window: usize,
) -> (Vec<u8>, Vec<u8>) {
    let reference = flank[..window.min(flank.len())].to_vec();
    let mut alternate = Vec::with_capacity(window);
    alternate.extend_from_slice(&flank[..offset.min(flank.len())]);
    alternate.extend_from_slice(alt);
    alternate.extend_from_slice(&flank[(offset + ref_len).min(flank.len())..]);
    alternate.truncate(window);
    (reference, alternate)
}

/// Copies of `[n, 4, window]` encoded windows, each reverse-complemented.
pub fn reverse_complements(windows: &[f32], window: usize) -> Vec<f32> {
    let mut rc = windows.to_vec();
    for w in rc.chunks_mut(4 * window) {
        reverse_complement(w, window);
    }
    rc
}

/// Reverse complement of an encoded window, in place: positions reversed and
/// A<->T, G<->C, which in AGCT order maps channel `c` to `3 - c`.
pub fn reverse_complement(onehot: &mut [f32], window: usize) {
    let (lo, hi) = onehot.split_at_mut(2 * window);
    // Channels 0 (A) and 3 (T) swap; 1 (G) and 2 (C) swap; both reversed.
    let (a, g) = lo.split_at_mut(window);
    let (c, t) = hi.split_at_mut(window);
    a.swap_with_slice(t);
    g.swap_with_slice(c);
    for ch in onehot.chunks_mut(window) {
        ch.reverse();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(enc: &[f32], window: usize, i: usize) -> [f32; 4] {
        [0, 1, 2, 3].map(|c| enc[c * window + i])
    }

    #[test]
    fn agct_order_case_and_unknown_letters() {
        let enc = encode("t", b"AGCTagctNRYn-", 16).unwrap();
        let expect = [
            [1., 0., 0., 0.],
            [0., 1., 0., 0.],
            [0., 0., 1., 0.],
            [0., 0., 0., 1.],
        ];
        for i in 0..8 {
            assert_eq!(column(&enc, 16, i), expect[i % 4], "position {i}");
        }
        for i in 8..16 {
            assert_eq!(column(&enc, 16, i), [0.; 4], "position {i} must be zero");
        }
    }

    #[test]
    fn too_long_is_an_error_naming_the_sequence() {
        let err = encode("chr1_peak", &[b'A'; 11], 10)
            .unwrap_err()
            .to_string();
        assert!(err.contains("chr1_peak") && err.contains("11 bp"), "{err}");
        assert!(encode("ok", &[b'A'; 10], 10).is_ok());
    }

    #[test]
    fn allele_windows_snv_deletion_insertion() {
        let flank: Vec<u8> = (0..20u8).map(|i| b"ACGT"[(i % 4) as usize]).collect();
        let w = 10;
        let off = variant_offset(w); // 4
        assert_eq!(off, 4);
        let (r, a) = allele_windows(&flank, off, 1, b"T", w);
        assert_eq!(r, b"ACGTACGTAC");
        assert_eq!(a, b"ACGTTCGTAC");
        // Deletion AC -> A: one more base of right flank comes in.
        let (_, a) = allele_windows(&flank, off, 2, b"A", w);
        assert_eq!(a, b"ACGTAGTACG");
        // Insertion A -> ATT: right flank pushed out.
        let (_, a) = allele_windows(&flank, off, 1, b"ATT", w);
        assert_eq!(a, b"ACGTATTCGT");
    }

    #[test]
    fn reverse_complement_is_the_encoding_of_the_reverse_complement() {
        let mut enc = encode("s", b"AAGCTN", 6).unwrap();
        reverse_complement(&mut enc, 6);
        assert_eq!(enc, encode("rc", b"NAGCTT", 6).unwrap());
    }
}
