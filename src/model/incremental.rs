//! Incremental inference: windows that differ from a reference window in a
//! short stretch (a SNV's ALT, every mutant of saturation mutagenesis) are
//! predicted by recomputing, layer by layer, only the positions the change can
//! reach; everything else is read from the reference's recorded activations.
//! This is the idea of fastISM (Nair et al., Genome Biology 2022), written
//! from that description for this network.
//!
//! The convolution stack is written once ([`Network::conv_stack`]) over an
//! executor: [`Plain`] runs whole tensors, [`Recorder`] runs whole tensors and
//! keeps the input of every layer, [`Patcher`] runs patches. A patch is, per
//! window, a start and a fixed width along the sequence; a convolution widens
//! it by `kernel - 1`, a pool narrows it by its factor, and once it covers the
//! whole feature map the layer is simply computed whole. The affected range is
//! always covered (at an edge the patch is shifted inwards, recomputing a few
//! unchanged positions), so the results equal full recomputation up to float
//! rounding (tests: within 1e-5). The dense layers run whole.

use candle_core::{DType, Tensor};

use super::network::{max_pool, Conv, Network};
use crate::error::{Error, Result};

/// One executor of the convolution stack.
pub(super) trait Exec {
    type A: Clone;
    fn conv(&mut self, x: &Self::A, c: &Conv, relu: bool) -> candle_core::Result<Self::A>;
    fn pool(&mut self, x: &Self::A, k: usize) -> candle_core::Result<Self::A>;
    /// `y + shortcut(x)` (identity when there is no shortcut convolution).
    fn residual(
        &mut self,
        y: &Self::A,
        x: &Self::A,
        sc: Option<&Conv>,
    ) -> candle_core::Result<Self::A>;
}

fn conv_relu(x: &Tensor, c: &Conv, relu: bool) -> candle_core::Result<Tensor> {
    let y = c.forward(x)?;
    if relu {
        y.relu()
    } else {
        Ok(y)
    }
}

/// Whole tensors.
pub(super) struct Plain;

impl Exec for Plain {
    type A = Tensor;
    fn conv(&mut self, x: &Tensor, c: &Conv, relu: bool) -> candle_core::Result<Tensor> {
        conv_relu(x, c, relu)
    }
    fn pool(&mut self, x: &Tensor, k: usize) -> candle_core::Result<Tensor> {
        max_pool(x, k)
    }
    fn residual(
        &mut self,
        y: &Tensor,
        x: &Tensor,
        sc: Option<&Conv>,
    ) -> candle_core::Result<Tensor> {
        match sc {
            Some(c) => y + c.forward(x)?,
            None => y + x,
        }
    }
}

/// A feature map of `n` windows, `[n, c, len]`, row-major.
#[derive(Clone)]
struct Map {
    c: usize,
    len: usize,
    data: Vec<f32>,
}

impl Map {
    fn of(t: &Tensor) -> candle_core::Result<Map> {
        let (_, c, len) = t.dims3()?;
        Ok(Map {
            c,
            len,
            data: t.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?,
        })
    }
}

/// Whole tensors, keeping the input of every layer (the reference's
/// activations the patches are read against).
struct Recorder {
    maps: Vec<Map>,
}

impl Exec for Recorder {
    type A = Tensor;
    fn conv(&mut self, x: &Tensor, c: &Conv, relu: bool) -> candle_core::Result<Tensor> {
        self.maps.push(Map::of(x)?);
        conv_relu(x, c, relu)
    }
    fn pool(&mut self, x: &Tensor, k: usize) -> candle_core::Result<Tensor> {
        self.maps.push(Map::of(x)?);
        max_pool(x, k)
    }
    fn residual(
        &mut self,
        y: &Tensor,
        x: &Tensor,
        sc: Option<&Conv>,
    ) -> candle_core::Result<Tensor> {
        self.maps.push(Map::of(x)?);
        Plain.residual(y, x, sc)
    }
}

/// Per window: the feature map equals its reference's except on
/// `[start, start + width)`, whose values are `data` (`[n, c, width]`).
#[derive(Clone)]
struct Patch {
    c: usize,
    len: usize,
    width: usize,
    start: Vec<usize>,
    data: Vec<f32>,
}

/// Runs patches against recorded reference activations.
struct Patcher<'r> {
    refs: &'r [Map],
    /// Reference (window index into the recorded maps) of each patched window.
    of: &'r [usize],
    next: usize,
    device: candle_core::Device,
}

impl<'r> Patcher<'r> {
    /// The next layer's recorded reference input (layers come in the order
    /// the recorder saw them).
    fn reference(&mut self) -> &'r Map {
        let m = &self.refs[self.next];
        self.next += 1;
        m
    }

    /// Values of `x` (patch over reference) at positions `[s, s + n)` of each
    /// window, `s = starts[i]` (may run outside the map: zeros there, the
    /// convolutions' padding), as `[windows, c, n]`.
    fn gather(&self, x: &Patch, m: &Map, starts: &[isize], n: usize) -> Vec<f32> {
        let b = x.start.len();
        let mut out = vec![0f32; b * x.c * n];
        for (i, &s) in starts.iter().enumerate() {
            let r = self.of[i];
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
    type A = Patch;

    fn conv(&mut self, x: &Patch, c: &Conv, relu: bool) -> candle_core::Result<Patch> {
        let m = self.reference();
        let (out_ch, _, k) = c.weight.dims3()?;
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
        let input = self.tensor(input, b, x.c, width + k - 1)?;
        let y = input
            .conv1d(&c.weight, 0, 1, 1, 1)?
            .broadcast_add(&c.bias)?;
        let y = if relu { y.relu()? } else { y };
        Ok(Patch {
            c: out_ch,
            len: len_out,
            width,
            start: starts,
            data: Map::of(&y)?.data,
        })
    }

    fn pool(&mut self, x: &Patch, k: usize) -> candle_core::Result<Patch> {
        let m = self.reference();
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

    fn residual(&mut self, y: &Patch, x: &Patch, sc: Option<&Conv>) -> candle_core::Result<Patch> {
        // `y`'s patch covers `x`'s (same-padded convolutions only widen it), so
        // outside it both are their references and so is the sum.
        let m = self.reference();
        let from: Vec<isize> = y.start.iter().map(|&s| s as isize).collect();
        let b = y.start.len();
        let xs = self.gather(x, m, &from, y.width);
        let add = match sc {
            Some(c) => {
                let t = self.tensor(xs, b, x.c, y.width)?;
                Map::of(&c.forward(&t)?)?.data
            }
            None => xs,
        };
        let mut out = y.clone();
        for (o, a) in out.data.iter_mut().zip(&add) {
            *o += a;
        }
        Ok(out)
    }
}

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
        let mut rec = Recorder { maps: vec![] };
        let (meta, r) = self.conv_stack(&mut rec, x)?;
        let ref_probs = self.to_vec(&self.dense(&meta, &r)?)?;
        // The branches' last maps, after the layers recorded above.
        let layers = rec.maps.len();
        rec.maps.push(Map::of(&meta)?);
        rec.maps.push(Map::of(&r)?);

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
        if !whole.is_empty() {
            let data: Vec<f32> = whole.iter().flat_map(|&i| windows[i].1.to_vec()).collect();
            let probs = self.predict(&data)?;
            for (k, &i) in whole.iter().enumerate() {
                out[i * outputs..(i + 1) * outputs]
                    .copy_from_slice(&probs[k * outputs..(k + 1) * outputs]);
            }
        }
        // Batches of patches of one width (the batch's longest change).
        for chunk in patched.chunks(128) {
            let width = chunk.iter().map(|&(_, f, l)| l - f + 1).max().unwrap_or(1);
            let mut start = Vec::with_capacity(chunk.len());
            let mut data = Vec::with_capacity(chunk.len() * 4 * width);
            let mut of = Vec::with_capacity(chunk.len());
            for &(i, f, _) in chunk {
                let s = f.min(len - width);
                let (r, w) = windows[i];
                for ch in 0..4 {
                    data.extend_from_slice(&w[ch * len + s..ch * len + s + width]);
                }
                start.push(s);
                of.push(r);
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
                of: &of,
                next: 0,
                device: self.device.clone(),
            };
            let (meta, r) = self.conv_stack(&mut patcher, x)?;
            debug_assert_eq!(patcher.next, layers);
            let meta = patcher.whole(&meta, &rec.maps[layers])?;
            let r = patcher.whole(&r, &rec.maps[layers + 1])?;
            let probs = self.to_vec(&self.dense(&meta, &r)?)?;
            for (k, &(i, _, _)) in chunk.iter().enumerate() {
                out[i * outputs..(i + 1) * outputs]
                    .copy_from_slice(&probs[k * outputs..(k + 1) * outputs]);
            }
        }
        Ok((ref_probs, out))
    }

    fn to_vec(&self, y: &Tensor) -> Result<Vec<f32>> {
        Ok(y.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?)
    }
}

impl Patcher<'_> {
    /// The whole feature map `[n, c, len]` of a patch over its reference `m`.
    fn whole(&self, x: &Patch, m: &Map) -> candle_core::Result<Tensor> {
        let b = x.start.len();
        let data = self.gather(x, m, &vec![0; b], x.len);
        self.tensor(data, b, x.c, x.len)
    }
}
