//! Following one pod container's log into the store, as it is produced.
//!
//! Lines are read with the runtime's timestamps. Each stored line keeps its timestamp, so when a stream
//! breaks (the API server restarted, a proxy timed out) or k8x restarts, reading resumes at the last stored
//! line's second (`sinceTime`) and skips what is already stored: no line lost, none repeated.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use chrono::{DateTime, SecondsFormat, Utc};
use k8s_openapi::{api::core::v1::Pod, jiff::Timestamp};
use kube::{api::LogParams, Api};
use tokio_util::{compat::FuturesAsyncReadCompatExt, sync::CancellationToken};

use super::{observe::container_statuses, retry};
use crate::{
    executor::{lines::read_line, mask::MAX_READ_BYTES, LogSink},
    store::{LogCursor, Store},
};

/// One container's log on its way to the store.
pub struct Follower {
    pub pods: Api<Pod>,
    pub store: Store,
    pub execution_id: String,
    pub pod: String,
    pub container: String,
    /// `[container] ` when the pod has several containers, so lines say whose they are.
    pub prefix: String,
    pub sink: LogSink,
    /// Cancelled when k8x stops or the execution is given up.
    pub stop: CancellationToken,
    /// Followers to wait for before reading (a pod's init containers, whose logs come first).
    pub after: Vec<CancellationToken>,
    /// Cancelled once this follower has stored its last line (or given up).
    pub done: CancellationToken,
}

impl Follower {
    /// Reads until the container has ended and its last line is stored (or the pod is gone).
    pub async fn run(self) {
        let _done = self.done.clone().drop_guard();
        for earlier in &self.after {
            tokio::select! {
                _ = self.stop.cancelled() => return,
                _ = earlier.cancelled() => {}
            }
        }
        let source = format!("{}/{}", self.pod, self.container);
        let mut cursor = match self.store.log_position(&self.execution_id, &source).await {
            Ok(position) => Cursor::at(position),
            Err(err) => {
                tracing::warn!(%err, %source, "log position unknown; reading the whole log again");
                Cursor::default()
            }
        };
        let backoff = || {
            ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(200))
                .with_max_delay(Duration::from_secs(10))
                .without_max_times()
                .build()
        };
        let mut pauses = backoff();
        loop {
            // A container that had ended before this read is read to its end once more, and that is all.
            let ended = match retry::call("read a pod", || self.pods.get_opt(&self.pod)).await {
                Ok(None) => return,
                Ok(Some(pod)) => has_ended(&pod, &self.container),
                Err(err) => {
                    self.sink.line("k8x", format!("the log of `{source}` could not be read: {err}")).await;
                    return;
                }
            };
            cursor.reopen();
            let params = LogParams {
                container: Some(self.container.clone()),
                follow: !ended,
                timestamps: true,
                since_time: cursor.since(),
                ..LogParams::default()
            };
            let read = tokio::select! {
                _ = self.stop.cancelled() => return,
                read = self.read(&params, &source, &mut cursor, ended) => read,
            };
            match read {
                Ok(_) if ended => return,
                Ok(lines) => {
                    if lines > 0 {
                        // The stream worked for a while: the next break is retried at once again.
                        pauses = backoff();
                    }
                    tracing::info!(%source, "log stream ended while the container runs; resuming")
                }
                Err(kube::Error::Api(status)) if status.code == 404 => return,
                Err(err) => tracing::warn!(%err, %source, "reading a pod log failed; resuming"),
            }
            let pause = pauses.next().unwrap_or(Duration::from_secs(10));
            tokio::select! {
                _ = self.stop.cancelled() => return,
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// Reads one stream to its end; returns how many lines it stored. `last` says the container has ended,
    /// so a final line without a newline is whole; otherwise such a line was cut off by the break and is
    /// read again, whole, from the next stream.
    async fn read(
        &self,
        params: &LogParams,
        source: &str,
        cursor: &mut Cursor,
        last: bool,
    ) -> Result<usize, kube::Error> {
        let mut stream = self.pods.log_stream(&self.pod, params).await?.compat();
        let mut buf = Vec::new();
        let mut stored = 0;
        loop {
            let read = read_line(&mut stream, &mut buf, MAX_READ_BYTES).await.map_err(kube::Error::ReadEvents)?;
            match read {
                None => return Ok(stored),
                Some(read) if !read.ended && !last => return Ok(stored),
                Some(_) => {}
            }
            let line = String::from_utf8_lossy(&buf);
            let (at, text) = split_timestamp(&line);
            if cursor.accept(&at) {
                let position = LogCursor { source: source.to_owned(), at };
                self.sink.line_at("stdout", format!("{}{text}", self.prefix), position).await;
                stored += 1;
            }
        }
    }
}

/// Whether `container` of `pod` has terminated (or the whole pod has ended).
pub fn has_ended(pod: &Pod, container: &str) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    matches!(phase, Some("Succeeded" | "Failed"))
        || container_statuses(pod)
            .any(|s| s.name == container && s.state.as_ref().is_some_and(|st| st.terminated.is_some()))
}

/// `2026-11-27T01:02:03.5Z text` → (`2026-11-27T01:02:03.500000000Z`, `text`): the timestamp in a fixed
/// width, so that comparing texts compares times.
fn split_timestamp(line: &str) -> (String, &str) {
    let (stamp, text) = line.split_once(' ').unwrap_or((line, ""));
    match DateTime::parse_from_rfc3339(stamp) {
        Ok(at) => (at.with_timezone(&Utc).to_rfc3339_opts(SecondsFormat::Nanos, true), text),
        // A line without a timestamp (not expected from a kubelet) sorts with the line before it.
        Err(_) => (String::new(), line),
    }
}

/// Where a container's stored log ends, and which lines of a re-read stream are already stored.
#[derive(Clone, Debug, Default, PartialEq)]
struct Cursor {
    /// The timestamp of the newest stored line.
    at: Option<String>,
    /// How many stored lines carry exactly that timestamp.
    same: u64,
    /// How many lines with that timestamp the current stream has still to skip.
    skip: u64,
}

impl Cursor {
    fn at(position: Option<(String, u64)>) -> Self {
        match position {
            Some((at, same)) => Self { at: Some(at), same, skip: 0 },
            None => Self::default(),
        }
    }

    /// A new stream starts at the second of the newest stored line: the lines of that second already stored
    /// will come again.
    fn reopen(&mut self) {
        self.skip = self.same;
    }

    /// `sinceTime` for the next stream: the newest stored line's second.
    fn since(&self) -> Option<Timestamp> {
        let at = DateTime::parse_from_rfc3339(self.at.as_deref()?).ok()?;
        Timestamp::from_second(at.timestamp()).ok()
    }

    /// Whether a line with timestamp `at` is new (and then counts it as stored).
    fn accept(&mut self, at: &str) -> bool {
        match self.at.as_deref() {
            Some(last) if !at.is_empty() && at < last => false,
            Some(last) if at == last || at.is_empty() => {
                if self.skip > 0 {
                    self.skip -= 1;
                    false
                } else {
                    self.same += 1;
                    true
                }
            }
            _ => {
                self.at = Some(at.to_owned());
                self.same = 1;
                self.skip = 0;
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_fixed_width() {
        let (at, text) = split_timestamp("2026-11-27T01:02:03.5Z hello world");
        assert_eq!((at.as_str(), text), ("2026-11-27T01:02:03.500000000Z", "hello world"));
        let (at, text) = split_timestamp("2026-11-27T01:02:03Z ");
        assert_eq!((at.as_str(), text), ("2026-11-27T01:02:03.000000000Z", ""));
        assert_eq!(split_timestamp("no stamp here").0, "");
    }

    #[test]
    fn a_reopened_stream_skips_exactly_what_is_stored() {
        let t = |s: &str| format!("2026-11-27T01:02:{s}Z");
        let mut cursor = Cursor::default();
        cursor.reopen();
        assert!(cursor.accept(&t("03.000000001")));
        assert!(cursor.accept(&t("03.000000002")));
        assert!(cursor.accept(&t("03.000000002")), "two lines may share a timestamp");
        // The stream breaks; the next one starts at second 03 and repeats those three lines.
        cursor.reopen();
        assert_eq!(cursor.since().unwrap().to_string(), "2026-11-27T01:02:03Z");
        assert!(!cursor.accept(&t("03.000000001")));
        assert!(!cursor.accept(&t("03.000000002")));
        assert!(!cursor.accept(&t("03.000000002")));
        assert!(cursor.accept(&t("04.000000000")), "then new lines are taken");
        // Resuming from the store after a restart works the same way.
        let mut resumed = Cursor::at(Some((t("04.000000000"), 1)));
        resumed.reopen();
        assert!(!resumed.accept(&t("03.999999999")));
        assert!(!resumed.accept(&t("04.000000000")));
        assert!(resumed.accept(&t("04.000000000")), "a second line with the same timestamp is new");
    }
}
