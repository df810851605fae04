//! Chains of services: a completion event (`k8x.execution.*`) can trigger further services, whose own
//! completion events can trigger more. Each completion event carries its depth in the chain, and the
//! dispatcher runs nothing for an event deeper than [`MAX_DEPTH`], so a cycle (a service subscribed to its
//! own outcome, or A → B → A) stops instead of running forever. Every execution also records its chain (the
//! correlation id of the outside event that began it), and a chain stops growing at [`MAX_EXECUTIONS`], so
//! fan-out (two services each subscribed to every success double at each step) stays bounded too.

use cloudevents::{AttributesReader, Event};

/// The extension attribute holding the depth.
pub const DEPTH_EXTENSION: &str = "k8xdepth";

/// The deepest completion event that still triggers services.
pub const MAX_DEPTH: u32 = 16;

/// The most executions one outside event may cause through chains of completion events, by default
/// (`K8X_MAX_CHAIN_EXECUTIONS`).
pub const MAX_EXECUTIONS: u64 = 256;

/// The correlation id of an event: the one it carries, else its own id (it starts a chain).
pub fn correlation_id(event: &Event) -> String {
    event.extension("correlationid").map(ToString::to_string).unwrap_or_else(|| event.id().to_owned())
}

/// The depth of an event: 0 for an event from outside, else what its extension says.
pub fn depth(event: &Event) -> u32 {
    event.extension(DEPTH_EXTENSION).and_then(|v| v.to_string().parse().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use cloudevents::{EventBuilder, EventBuilderV10};

    use super::*;

    #[test]
    fn depth_defaults_to_zero_and_reads_the_extension() {
        let plain = EventBuilderV10::new().id("1").source("/s").ty("t").build().unwrap();
        assert_eq!(depth(&plain), 0);
        let chained =
            EventBuilderV10::new().id("1").source("/s").ty("t").extension(DEPTH_EXTENSION, 3i64).build().unwrap();
        assert_eq!(depth(&chained), 3);
    }
}
