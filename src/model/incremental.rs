//! Incremental inference: windows that differ from a reference window in a
//! short stretch (a SNV's ALT, every mutant of saturation mutagenesis) are
//! predicted by recomputing, layer by layer, only the positions the change can
//! reach; everything else is read from the reference's recorded activations.
//! This is the idea of fastISM (Nair et al., Genome Biology 2022), written
//! from that description for this network.
//!
//! The graph is walked once ([`Network::run`]) over an executor: `Plain` runs
//! whole tensors, [`Recorder`] runs whole tensors and keeps every feature map
//! by value, [`Patcher`] runs patches against the recorded maps. A patch is, per
//! window, a start and a fixed width along the sequence; a convolution widens
//! it by `kernel - 1`, a pool narrows it by its factor, and once it covers the
//! whole feature map the layer is simply computed whole. The affected range is
//! always covered (at an edge the patch is shifted inwards, recomputing a few
//! unchanged positions), so the results equal full recomputation up to float
//! rounding (tests: within 1e-5). The dense layers run whole.

use candle_core::{DType, Tensor};

use super::network::{conv_with, Conv, ConvWeights, Exec, Network, Plain};
use super::qconv::{window_scales, ActScale, ACT_MAX};
use crate::architecture::ValueId;
use crate::error::{Error, Result};

/// A feature map of `n` windows, `[n, c, len]`, row-major.
struct FeatureMap {
    c: usize,
    len: usize,
    data: Vec<f32>,
}

impl FeatureMap {
    fn from_tensor(t: &Tensor) -> candle_core::Result<FeatureMap> {
        let (_, c, len) = t.dims3()?;
        Ok(FeatureMap {
            c,
            len,
            data: t.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?,
        })
    }
}

/// Whole tensors, keeping every feature map by value (the reference's
/// activations the patches are read against).
struct Recorder {
    maps: Vec<Option<FeatureMap>>,
    /// Per value read by an integer convolution, the activation scale of
    /// each reference window: a patch is quantized with its reference's
    /// scale, so that it matches the recorded map around it.
    scales: Vec<Option<Vec<ActScale>>>,
}

impl Exec for Recorder {
    type Map = Tensor;
    fn conv(
        &mut self,
        x: &Tensor,
        id: ValueId,
        c: &Conv,
        relu: bool,
    ) -> candle_core::Result<Tensor> {
        if let ConvWeights::Int(_) = c.weights {
            // The input's values were recorded when it was computed.
            let n = x.dims3()?.0;
            let data = &self.maps[id]
                .as_ref()
                .ok_or_else(|| candle_core::Error::Msg(format!("value {id} not recorded")))?
                .data;
            let s = self.scales[id].get_or_insert_with(|| window_scales(data, n));
            return conv_with(x, c, c.padding, relu, Some(s));
        }
        Plain.conv(x, id, c, relu)
    }
    fn pool(&mut self, x: &Tensor, id: ValueId, k: usize) -> candle_core::Result<Tensor> {
        Plain.pool(x, id, k)
    }
    fn add(&mut self, a: (&Tensor, ValueId), b: (&Tensor, ValueId)) -> candle_core::Result<Tensor> {
        Plain.add(a, b)
    }
    fn whole(&mut self, x: &Tensor, id: ValueId) -> candle_core::Result<Tensor> {
        Plain.whole(x, id)
    }
    fn computed(&mut self, id: ValueId, x: &Tensor) -> candle_core::Result<()> {
        self.maps[id] = Some(FeatureMap::from_tensor(x)?);
        Ok(())
    }
}

/// Per window: the feature map equals its reference's except on
/// `[start, start + width)`, whose values are `data` (`[n, c, width]`).
struct Patch {
    c: usize,
    len: usize,
    width: usize,
    start: Vec<usize>,
    data: Vec<f32>,
}

/// Runs patches against recorded reference feature maps.
struct Patcher<'r> {
    /// The references' feature maps, by value.
    refs: &'r [Option<FeatureMap>],
    /// The references' activation scales, by value (integer convolutions).
    scales: &'r [Option<Vec<ActScale>>],
    /// Reference (window index into the recorded maps) of each patched window.
    reference_of: &'r [usize],
    /// Per patched window: an integer convolution's input left its
    /// reference's activation range, so the reference's scale would clamp it
    /// (an ALT that makes a stronger site than any in its reference). Such a
    /// window is predicted whole, with its own scales.
    out_of_range: Vec<bool>,
    device: candle_core::Device,
}

impl<'r> Patcher<'r> {
    /// The references' recorded map of value `id`.
    fn reference(&self, id: ValueId) -> candle_core::Result<&'r FeatureMap> {
        self.refs[id].as_ref().ok_or_else(|| {
            candle_core::Error::Msg(format!("no recorded reference map for value {id}"))
        })
    }

    /// Values of `x` (patch over reference `m`) at positions `[s, s + n)` of
    /// each window, `s = starts[i]` (may run outside the map: zeros there, the
    /// convolutions' padding), as `[windows, c, n]`.
    fn gather(&self, x: &Patch, m: &FeatureMap, starts: &[isize], n: usize) -> Vec<f32> {
        let b = x.start.len();
        let mut out = vec![0f32; b * x.c * n];
        for (i, &s) in starts.iter().enumerate() {
            let r = self.reference_of[i];
            let (ps, pw) = (x.start[i] as isize, x.width as isize);
            for ch in 0..x.c {
                let dst = &mut out[(i * x.c + ch) * n..(i * x.c + ch + 1) * n];
                let reference = &m.data[(r * m.c + ch) * m.len..(r * m.c + ch + 1) * m.len];
                let patch = &x.data[(i * x.c + ch) * x.width..(i * x.c + ch + 1) * x.width];
                for (j, d) in dst.iter_mut().enumerate() {
                    let p = s + j as isize;
                    if p >= ps && p < ps + pw {
                        *d = patch[(p - ps) as usize];
                    } else if p >= 0 && (p as usize) < m.len {
                        *d = reference[p as usize];
                    }
                }
            }
        }
        out
    }

    fn tensor(&self, data: Vec<f32>, b: usize, c: usize, n: usize) -> candle_core::Result<Tensor> {
        Tensor::from_vec(data, (b, c, n), &self.device)
    }
}

impl Exec for Patcher<'_> {
    type Map = Patch;

    fn conv(&mut self, x: &Patch, id: ValueId, c: &Conv, relu: bool) -> candle_core::Result<Patch> {
        let m = self.reference(id)?;
        let (out_ch, k) = (c.out_channels()?, c.kernel()?);
        let p = c.padding;
        let len_out = x.len + 2 * p + 1 - k;
        let width = (x.width + k - 1).min(len_out);
        let starts: Vec<usize> = x
            .start
            .iter()
            .map(|&a| (a + p).saturating_sub(k - 1).min(len_out - width))
            .collect();
        let from: Vec<isize> = starts.iter().map(|&s| s as isize - p as isize).collect();
        let b = x.start.len();
        let input = self.gather(x, m, &from, width + k - 1);
        let scales: Option<Vec<ActScale>> = match (&c.weights, self.scales[id].as_ref()) {
            (ConvWeights::Int(_), Some(s)) => Some(
                self.reference_of
                    .iter()
                    .map(|&r| s.get(r).map(|s| s.widened(ALT_HEADROOM)))
                    .collect::<Option<_>>()
                    .ok_or_else(|| candle_core::Error::Msg(format!("no scale for value {id}")))?,
            ),
            (ConvWeights::Int(_), None) => {
                return Err(candle_core::Error::Msg(format!(
                    "no recorded scales for value {id}"
                )))
            }
            (ConvWeights::F32 { .. } | ConvWeights::Exact(_), _) => None,
        };
        if let Some(scales) = &scales {
            let per = x.c * (width + k - 1);
            for ((values, s), flag) in input
                .chunks_exact(per)
                .zip(scales)
                .zip(self.out_of_range.iter_mut())
            {
                *flag |= values.iter().any(|v| v.abs() * s.inv > ACT_MAX as f32);
            }
        }
        let input = self.tensor(input, b, x.c, width + k - 1)?;
        // The gathered input holds the padding's zeros already.
        let y = conv_with(&input, c, 0, relu, scales.as_deref())?;
        Ok(Patch {
            c: out_ch,
            len: len_out,
            width,
            start: starts,
            data: FeatureMap::from_tensor(&y)?.data,
        })
    }

    fn pool(&mut self, x: &Patch, id: ValueId, k: usize) -> candle_core::Result<Patch> {
        let m = self.reference(id)?;
        let len_out = x.len / k;
        let width = ((x.width - 1) / k + 2).min(len_out);
        let starts: Vec<usize> = x
            .start
            .iter()
            .map(|&a| (a / k).min(len_out - width))
            .collect();
        let from: Vec<isize> = starts.iter().map(|&s| (s * k) as isize).collect();
        let b = x.start.len();
        let input = self.gather(x, m, &from, width * k);
        let mut data = vec![f32::NEG_INFINITY; b * x.c * width];
        for (row, d) in input
            .chunks_exact(width * k)
            .zip(data.chunks_exact_mut(width))
        {
            for (j, v) in d.iter_mut().enumerate() {
                *v = row[j * k..(j + 1) * k]
                    .iter()
                    .copied()
                    .fold(f32::NEG_INFINITY, f32::max);
            }
        }
        Ok(Patch {
            c: x.c,
            len: len_out,
            width,
            start: starts,
            data,
        })
    }

    /// The sum over the union of the two patches (outside it both maps are
    /// their references, and so is the sum).
    fn add(&mut self, a: (&Patch, ValueId), b: (&Patch, ValueId)) -> candle_core::Result<Patch> {
        let ((x, xid), (y, yid)) = (a, b);
        let len = x.len;
        let n = x.start.len();
        let spans: Vec<(usize, usize)> = (0..n)
            .map(|i| {
                let lo = x.start[i].min(y.start[i]);
                let hi = (x.start[i] + x.width).max(y.start[i] + y.width);
                (lo, hi)
            })
            .collect();
        let width = spans
            .iter()
            .map(|(lo, hi)| hi - lo)
            .max()
            .unwrap_or(1)
            .min(len);
        let starts: Vec<usize> = spans.iter().map(|&(lo, _)| lo.min(len - width)).collect();
        let from: Vec<isize> = starts.iter().map(|&s| s as isize).collect();
        let mut data = self.gather(x, self.reference(xid)?, &from, width);
        let other = self.gather(y, self.reference(yid)?, &from, width);
        for (o, v) in data.iter_mut().zip(&other) {
            *o += v;
        }
        Ok(Patch {
            c: x.c,
            len,
            width,
            start: starts,
            data,
        })
    }

    fn whole(&mut self, x: &Patch, id: ValueId) -> candle_core::Result<Tensor> {
        let b = x.start.len();
        let data = self.gather(x, self.reference(id)?, &vec![0; b], x.len);
        self.tensor(data, b, x.c, x.len)
    }
}

/// How much wider than its reference's activation range an incremental ALT's
/// range is (integer convolutions). A factor of 2 costs one bit of the
/// 14-bit codes; an ALT whose values still leave it is predicted whole.
const ALT_HEADROOM: f32 = 2.0;

/// Longest changed stretch (in bases) predicted incrementally; windows that
/// differ more (indels shift everything after them) are predicted whole.
pub const MAX_CHANGED: usize = 32;

/// The changed stretch `[first, last]` of `window` against `reference`
/// (`[4, len]` one-hot each), or `None` when they are equal.
pub fn changed_range(reference: &[f32], window: &[f32], len: usize) -> Option<(usize, usize)> {
    let mut first = None;
    let mut last = 0;
    for pos in 0..len {
        if (0..4).any(|ch| reference[ch * len + pos] != window[ch * len + pos]) {
            first.get_or_insert(pos);
            last = pos;
        }
    }
    first.map(|f| (f, last))
}

impl Network {
    /// Predicts `references` (`[r, 4, window]`) whole and `windows`, each
    /// given with the index of its reference, incrementally when it differs
    /// from that reference in at most [`MAX_CHANGED`] bases (else whole).
    /// Returns the references' and the windows' probabilities, row by row.
    pub fn predict_incremental(
        &self,
        references: &[f32],
        windows: &[(usize, &[f32])],
    ) -> Result<(Vec<f32>, Vec<f32>)> {
        let len = self.cfg.window;
        let per = 4 * len;
        let outputs = self.cfg.outputs;
        let x = self.to_input(references)?;
        let n_refs = references.len() / per;
        let mut rec = Recorder {
            maps: (0..self.graph.values.len()).map(|_| None).collect(),
            scales: (0..self.graph.values.len()).map(|_| None).collect(),
        };
        let ref_probs = Self::to_vec(&self.run(&mut rec, x)?)?;

        let mut out = vec![0f32; windows.len() * outputs];
        let mut whole: Vec<usize> = vec![];
        let mut patched: Vec<(usize, usize, usize)> = vec![]; // (window, first, last)
        for (i, &(r, w)) in windows.iter().enumerate() {
            if r >= n_refs || w.len() != per {
                return Err(Error::input(
                    "predict",
                    format!("window {i}: no reference {r} or not {per} values"),
                ));
            }
            match changed_range(&references[r * per..(r + 1) * per], w, len) {
                None => out[i * outputs..(i + 1) * outputs]
                    .copy_from_slice(&ref_probs[r * outputs..(r + 1) * outputs]),
                Some((f, l)) if l - f < MAX_CHANGED => patched.push((i, f, l)),
                Some(_) => whole.push(i),
            }
        }
        // Batches of patches of one width (the batch's longest change).
        for chunk in patched.chunks(128) {
            let width = chunk.iter().map(|&(_, f, l)| l - f + 1).max().unwrap_or(1);
            let mut start = Vec::with_capacity(chunk.len());
            let mut data = Vec::with_capacity(chunk.len() * 4 * width);
            let mut reference_of = Vec::with_capacity(chunk.len());
            for &(i, f, _) in chunk {
                let s = f.min(len - width);
                let (r, w) = windows[i];
                for ch in 0..4 {
                    data.extend_from_slice(&w[ch * len + s..ch * len + s + width]);
                }
                start.push(s);
                reference_of.push(r);
            }
            let x = Patch {
                c: 4,
                len,
                width,
                start,
                data,
            };
            let mut patcher = Patcher {
                refs: &rec.maps,
                scales: &rec.scales,
                reference_of: &reference_of,
                out_of_range: vec![false; chunk.len()],
                device: self.device.clone(),
            };
            let probs = Self::to_vec(&self.run(&mut patcher, x)?)?;
            for (k, &(i, _, _)) in chunk.iter().enumerate() {
                out[i * outputs..(i + 1) * outputs]
                    .copy_from_slice(&probs[k * outputs..(k + 1) * outputs]);
            }
            // Those that left their reference's range are predicted whole below.
            whole.extend(
                chunk
                    .iter()
                    .zip(&patcher.out_of_range)
                    .filter(|(_, &o)| o)
                    .map(|(&(i, _, _), _)| i),
            );
        }
        if !whole.is_empty() {
            let data: Vec<f32> = whole.iter().flat_map(|&i| windows[i].1.to_vec()).collect();
            let probs = self.predict(&data)?;
            for (k, &i) in whole.iter().enumerate() {
                out[i * outputs..(i + 1) * outputs]
                    .copy_from_slice(&probs[k * outputs..(k + 1) * outputs]);
            }
        }
        Ok((ref_probs, out))
    }
}
