// Shared by the checkpoint targets: read, then take the widths from the
// shapes and fold the state dict as `brain-resnet convert` does.
use brain_resnet::weights::checkpoint::read_checkpoint;
use brain_resnet::weights::fold::fold_checkpoint;
use brain_resnet::weights::shapes::config_from_checkpoint;

pub fn load(bytes: &[u8]) {
    let Ok(map) = read_checkpoint(std::io::Cursor::new(bytes), "fuzz.pth") else {
        return;
    };
    let Ok(cfg) = config_from_checkpoint(&map, "fuzz.pth") else {
        return;
    };
    let _ = fold_checkpoint(&cfg, &map, "fuzz.pth");
}
