//! The `brain-resnet` binary's subcommands, one file each, and what they share.

pub mod analyze;
pub mod concat;
pub mod convert;
pub mod info;
pub mod predict;
pub mod random_model;
pub mod score;
pub mod track;

use std::path::Path;

use indicatif::ProgressBar;

use brain_resnet::Error;

/// Profile names, one a line (blank lines ignored).
pub fn read_labels(path: &Path) -> Result<Vec<String>, Error> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Error::input(&name, e))?;
    let labels: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if labels.is_empty() {
        return Err(Error::input(
            &name,
            "no labels (expected one profile name a line)",
        ));
    }
    Ok(labels)
}

/// A spinner on standard error while `msg` runs.
pub fn spinner(msg: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner().with_message(msg.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}
