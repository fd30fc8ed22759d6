//! The architecture read from a checkpoint: every width from the tensor
//! shapes (never hard-coded), then every tensor the architecture needs checked
//! for presence and shape.

use super::TensorMap;
use crate::architecture::{
    block_prefix, meta_conv_prefix, Config, MetaConfig, ResConfig, ResStage,
};
use crate::error::{Error, Result, ShapeText};

/// Reads every width from the tensor shapes of a checkpoint (keys without
/// any `module.` prefix), then checks every tensor the architecture needs.
/// Pool sizes and the 1000 bp window are fixed by the architecture.
pub fn config_from_checkpoint(map: &TensorMap, source_name: &str) -> Result<Config> {
    let shape = |key: &str| -> Result<&[usize]> {
        map.get(key)
            .map(|t| t.shape.as_slice())
            .ok_or_else(|| Error::MissingKey {
                source_name: source_name.to_string(),
                key: key.to_string(),
            })
    };
    let dim = |key: &str, rank: usize, i: usize| -> Result<usize> {
        let s = shape(key)?;
        if s.len() != rank {
            return Err(Error::input(
                source_name,
                format!("tensor `{key}` has shape {s:?}, expected a rank-{rank} tensor"),
            ));
        }
        Ok(s[i])
    };

    let mut meta_channels = vec![];
    while map.contains_key(&format!("{}.weight", meta_conv_prefix(meta_channels.len()))) {
        meta_channels.push(dim(
            &format!("{}.weight", meta_conv_prefix(meta_channels.len())),
            3,
            0,
        )?);
    }
    let meta_kernel = dim("base_model.conv_net.0.weight", 3, 2)?;
    let mut stages = vec![];
    loop {
        let mut blocks = 0;
        while map.contains_key(&format!(
            "{}.conv1.weight",
            block_prefix(stages.len(), blocks)
        )) {
            blocks += 1;
        }
        if blocks == 0 {
            break;
        }
        let channels = dim(
            &format!("{}.conv1.weight", block_prefix(stages.len(), 0)),
            3,
            0,
        )?;
        stages.push(ResStage { channels, blocks });
    }
    if stages.is_empty() {
        return Err(Error::MissingKey {
            source_name: source_name.to_string(),
            key: "seq_model.layer1.0.conv1.weight".into(),
        });
    }
    let cfg = Config {
        window: 1000,
        meta: MetaConfig {
            channels: meta_channels,
            kernel: meta_kernel,
            pool: 4,
            hidden: dim("base_model.classifier.0.weight", 2, 0)?,
            outputs: dim("base_model.classifier.2.weight", 2, 0)?,
        },
        resnet: ResConfig {
            stem: dim("seq_model.conv1.weight", 3, 0)?,
            kernel: dim("seq_model.conv1.weight", 3, 2)?,
            pool: 3,
            stages,
            hidden: dim("seq_model.classifier.0.weight", 2, 0)?,
            outputs: dim("seq_model.classifier.2.weight", 2, 0)?,
        },
        head_hidden: dim("classifier.0.weight", 2, 0)?,
        outputs: dim("classifier.2.weight", 2, 0)?,
    };
    cfg.validate(source_name)?;
    check_checkpoint(&cfg, map, source_name)?;
    Ok(cfg)
}

fn check_checkpoint(cfg: &Config, map: &TensorMap, source_name: &str) -> Result<()> {
    for (key, expected) in cfg.checkpoint_tensors() {
        check_shape(map, &key, &expected, source_name)?;
    }
    Ok(())
}

/// Checks that `map[key]` exists with shape `expected`.
pub fn check_shape(
    map: &TensorMap,
    key: &str,
    expected: &[usize],
    source_name: &str,
) -> Result<()> {
    match map.get(key) {
        None => Err(Error::MissingKey {
            source_name: source_name.to_string(),
            key: key.to_string(),
        }),
        Some(t) if t.shape != expected => Err(Error::Shape {
            source_name: source_name.to_string(),
            key: key.to_string(),
            expected: ShapeText(expected.to_vec()),
            found: ShapeText(t.shape.clone()),
        }),
        Some(_) => Ok(()),
    }
}
