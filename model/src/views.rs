//! Read-only views the UI renders. Secrets never appear here: a service view carries secret *names* only.

use serde::{Deserialize, Serialize};

use crate::parameters::ParameterForm;

/// Where an execution is in its life. Stored as the lower-case name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecutionStatus {
    /// Created by the dispatcher, not yet handed to an executor.
    Queued,
    /// The executor started it.
    Running,
    /// Every container exited with 0.
    Succeeded,
    /// A container failed, the launch failed, or k8x stopped while it ran.
    Failed,
    /// Somebody cancelled it: its processes or its Job were stopped.
    Cancelled,
    /// k8x stopped while it ran (past the shutdown grace period) or its process died: retried per the
    /// service's policy like a failure.
    Interrupted,
}

impl ExecutionStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Interrupted => "interrupted",
        }
    }

    /// Reads the stored spelling; an unknown value reads as `Failed` rather than hiding the row.
    pub fn parse(value: &str) -> Self {
        match value {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "succeeded" => Self::Succeeded,
            "cancelled" => Self::Cancelled,
            "interrupted" => Self::Interrupted,
            _ => Self::Failed,
        }
    }

    /// True once nothing more will happen to the execution.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled | Self::Interrupted)
    }
}

/// One row of the services list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceSummary {
    pub name: String,
    pub project: String,
    pub kind: String,
    pub description: String,
    pub active: bool,
    pub allow_manual_triggering: bool,
    pub trigger_events: Vec<String>,
    pub tags: Vec<String>,
    /// The newest execution of this service, if any.
    pub last_run: Option<ExecutionSummary>,
}

/// One page of the services list.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServicePage {
    pub services: Vec<ServiceSummary>,
    /// How many services match, on every page.
    pub total: u64,
    /// This page's number, from 1.
    pub page: u64,
    pub per_page: u64,
}

impl ServicePage {
    /// How many pages the matches fill (at least one).
    pub fn pages(&self) -> u64 {
        self.total.div_ceil(self.per_page.max(1)).max(1)
    }
}

/// The service page: its files (secrets masked) and its recent runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceDetail {
    pub summary: ServiceSummary,
    /// `manifest.json` as written.
    pub manifest: String,
    /// `deployment.yaml` as written.
    pub deployment: String,
    /// `configs.json`, pretty-printed, if the service has one.
    pub configs: Option<String>,
    /// The names of the service's secrets; their values never leave the server.
    pub secret_names: Vec<String>,
    /// The manual-run form, if the service has a `parameters.json`.
    pub parameters: Option<ParameterForm>,
    pub recent_runs: Vec<ExecutionSummary>,
    /// The revision its files are at now.
    pub revision: Option<String>,
    /// Every revision its runs used, newest first.
    pub revisions: Vec<RevisionUse>,
    /// Set when its secrets come from a `secrets.json` in a repository or archive (readable by whoever reads
    /// those): the advice to set them in k8x instead.
    pub secrets_file_warning: Option<String>,
    /// Whether the viewer may set its secrets and configs (an admin).
    pub can_set_values: bool,
    /// When it runs by itself, if it does.
    pub schedule: Option<ScheduleView>,
}

/// A service's schedule and its next due times.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScheduleView {
    pub expression: String,
    pub timezone: String,
    /// `skip` or `run_once`: what happens to due times missed while k8x was down.
    pub missed: String,
    /// The next due times, RFC 3339.
    pub next: Vec<String>,
}

/// How many runs used one revision of a service, and when the last of them was created.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RevisionUse {
    pub revision: Option<String>,
    pub runs: u64,
    pub last_run: String,
}

/// One row of the executions list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutionSummary {
    pub id: String,
    pub service: String,
    pub project: String,
    pub status: ExecutionStatus,
    pub event_id: String,
    pub event_type: String,
    pub exit_code: Option<i32>,
    /// RFC 3339 timestamps.
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// What it waits on, or why it failed, as the executor saw it (`ImagePullBackOff: …`).
    pub reason: Option<String>,
    /// The Kubernetes Job running it (Kubernetes executor only).
    pub job_name: Option<String>,
    /// Which attempt this is, and how many the service allows (1 and 1 without retries).
    pub attempt: i32,
    pub max_attempts: i32,
    /// The revision of the service it ran (a commit, or `sha256:` of an archive or directory).
    pub revision: Option<String>,
}

/// The execution page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutionDetail {
    pub summary: ExecutionSummary,
    /// Why it failed, when k8x (not the container) knows.
    pub error: Option<String>,
    /// `K8X_PARAMS` as the container saw it, pretty-printed.
    pub params: String,
    /// The triggering CloudEvent, structured-mode JSON, pretty-printed.
    pub event: String,
    /// The lines shown: the newest stored so far, or the page or search matches asked for ([`LogWindow`]).
    pub log: Vec<LogLine>,
    /// Whether earlier lines were left out of the newest ones (the pages and the download have them all).
    pub log_truncated: bool,
    /// Which lines `log` holds.
    pub log_window: LogWindow,
    /// How many lines the log has (for a search: how many match, up to a limit).
    pub log_total: u64,
    /// The attempts before the current one, oldest first.
    pub attempts: Vec<AttemptSummary>,
}

/// Which part of a log a page shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LogWindow {
    /// The newest lines, followed live while the execution runs.
    #[default]
    Tail,
    /// Page `n` (from 1) of the whole log, [`LOG_PAGE_LINES`] to a page.
    Page(u64),
    /// Page `page` of the lines containing `text` (ignoring case).
    Search { text: String, page: u64 },
}

/// Lines on one page of a log (and in its tail).
pub const LOG_PAGE_LINES: u64 = 5000;
/// The most lines a log search counts (a page says "more than" beyond it).
pub const LOG_SEARCH_COUNT_LIMIT: u64 = 100_000;

impl LogWindow {
    /// The window a page's query asks for: `log_q` (search), `log_page`, or `log=all` (the first page).
    pub fn from_query(log: Option<&str>, page: Option<&str>, search: Option<&str>) -> Self {
        let asked = page.is_some();
        let page = page.and_then(|p| p.parse::<u64>().ok()).unwrap_or(1).max(1);
        match search.map(str::trim).filter(|text| !text.is_empty()) {
            Some(text) => Self::Search { text: text.chars().take(200).collect(), page },
            None if log == Some("all") || asked || search.is_some() => Self::Page(page),
            None => Self::Tail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LogWindow;

    #[test]
    fn a_pages_query_names_its_part_of_the_log() {
        assert_eq!(LogWindow::from_query(None, None, None), LogWindow::Tail);
        assert_eq!(LogWindow::from_query(Some("all"), None, None), LogWindow::Page(1));
        assert_eq!(LogWindow::from_query(None, Some("1"), None), LogWindow::Page(1));
        assert_eq!(LogWindow::from_query(None, Some("0"), None), LogWindow::Page(1));
        assert_eq!(LogWindow::from_query(None, Some("x"), Some("  ")), LogWindow::Page(1));
        let search = LogWindow::from_query(None, Some("3"), Some(" oops "));
        assert_eq!(search, LogWindow::Search { text: "oops".into(), page: 3 });
    }
}

/// An earlier attempt of an execution, which ended and was retried.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptSummary {
    pub attempt: i32,
    pub status: ExecutionStatus,
    pub exit_code: Option<i32>,
    pub error: Option<String>,
    /// RFC 3339 timestamps.
    pub started_at: Option<String>,
    pub finished_at: String,
}

/// One captured line of output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    /// Position in the execution's log, from 1.
    pub seq: i64,
    /// `stdout`, `stderr` or `k8x` (lines k8x itself wrote).
    pub stream: String,
    pub text: String,
}

/// What the live log stream sends when an execution changes state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusUpdate {
    pub status: ExecutionStatus,
    pub exit_code: Option<i32>,
    pub error: Option<String>,
}
