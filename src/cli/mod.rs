//! Subcommands of the `brain-resnet` binary that need more than a few lines.

pub mod score;
