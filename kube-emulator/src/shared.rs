//! What every route, the controller and the kubelet share, behind one `Arc`.

use tokio_util::sync::CancellationToken;

use crate::control::Control;
use crate::kubelet::Kubelet;
use crate::logs::LogStore;
use crate::options::Options;
use crate::store::Store;

/// The emulator's state.
pub struct Shared {
    /// What the test chose at start.
    pub options: Options,
    /// Every object.
    pub store: Store,
    /// Every container's output.
    pub logs: LogStore,
    /// Faults, the down switch, the request record, stream breakers.
    pub control: Control,
    /// Pod lifecycles and the host processes behind them.
    pub kubelet: Kubelet,
    /// Cancelled once, on stop or drop; every long-lived task and stream selects on it.
    pub shutdown: CancellationToken,
}

impl Shared {
    /// Fresh state for `options`.
    pub fn new(options: Options) -> Self {
        Self {
            options,
            store: Store::default(),
            logs: LogStore::default(),
            control: Control::default(),
            kubelet: Kubelet::default(),
            shutdown: CancellationToken::new(),
        }
    }
}
