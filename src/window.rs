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
}
