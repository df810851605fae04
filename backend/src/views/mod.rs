//! Read models for the UI: store rows turned into [`model::views`] types. Secrets leave as names only.
//! [`access`] has the admin pages' views.

pub mod access;

use model::views::{
    AttemptSummary, ExecutionDetail, ExecutionStatus, ExecutionSummary, LogLine, LogWindow, RevisionUse, ScheduleView,
    ServiceDetail, ServicePage, ServiceSummary, LOG_PAGE_LINES, LOG_SEARCH_COUNT_LIMIT,
};
use serde_json::Value;

use crate::store::{entities::execution, Result, ServiceListing, Store};

/// Services per page of the list.
pub const SERVICES_PER_PAGE: u64 = 50;

/// Page `page` (from 1) of the services whose name, description, project, tags or trigger events contain
/// `search` (ignoring case; all of them when it is blank), each with its last run: three queries whatever the
/// number of services.
pub async fn services(store: &Store, search: &str, page: u64) -> Result<ServicePage> {
    let page = page.max(1);
    let offset = (page - 1).saturating_mul(SERVICES_PER_PAGE);
    let (rows, total) = store.service_page(search, offset, SERVICES_PER_PAGE).await?;
    let names: Vec<String> = rows.iter().map(|row| row.name.clone()).collect();
    let mut last_runs = store.last_runs(&names).await?;
    let services =
        rows.iter().map(|row| service_summary(row, last_runs.remove(&row.name).map(execution_summary))).collect();
    Ok(ServicePage { services, total, page, per_page: SERVICES_PER_PAGE })
}

/// One service's page; `admin` when the viewer may set its secrets and configs.
pub async fn service(store: &Store, name: &str, admin: bool) -> Result<Option<ServiceDetail>> {
    let Some(row) = store.service(name).await? else { return Ok(None) };
    let revisions = store
        .revision_uses(name)
        .await?
        .into_iter()
        .map(|(revision, runs, last)| RevisionUse { revision, runs, last_run: last.to_rfc3339() })
        .collect();
    let from_repository = store.project_kind(&row.project).await?.is_some_and(|kind| kind != "directory");
    let secrets_file_warning = (from_repository && row.secrets.is_some()).then(|| {
        "secrets.json is in the project's repository or archive, readable by anyone who can read those: set these \
         secrets in k8x instead (below), and remove the file"
            .to_owned()
    });
    let recent_runs: Vec<_> = store.executions(Some(name), 20).await?.into_iter().map(execution_summary).collect();
    let spec = crate::catalog::read_service(&row).ok();
    let schedule = spec.as_ref().and_then(|s| s.schedule.as_ref()).map(|s| ScheduleView {
        expression: s.expression.clone(),
        timezone: s.timezone.name().to_owned(),
        missed: if s.missed == crate::schedule::Missed::Skip { "skip" } else { "run_once" }.to_owned(),
        next: s.upcoming(chrono::Utc::now(), 5).iter().map(|t| t.to_rfc3339()).collect(),
    });
    Ok(Some(ServiceDetail {
        summary: service_summary(&ServiceListing::from(&row), recent_runs.first().cloned()),
        manifest: row.manifest.clone(),
        deployment: row.deployment.clone(),
        configs: row.configs.as_deref().map(pretty),
        secret_names: spec.as_ref().map(|s| s.secrets.keys().cloned().collect()).unwrap_or_default(),
        parameters: spec.and_then(|s| s.parameters),
        recent_runs,
        revision: row.revision.clone(),
        revisions,
        secrets_file_warning,
        can_set_values: admin,
        schedule,
    }))
}

/// The newest executions.
pub async fn executions(store: &Store, limit: u64) -> Result<Vec<ExecutionSummary>> {
    Ok(store.executions(None, limit).await?.into_iter().map(execution_summary).collect())
}

/// One execution's page, with the part of its log `window` asks for: its newest [`LOG_PAGE_LINES`] lines (the
/// tail, followed live), one page of the whole log, or one page of the lines containing a text.
pub async fn execution(store: &Store, id: &str, window: LogWindow) -> Result<Option<ExecutionDetail>> {
    // What a client asked for, made sane: pages from 1, a search of at most 200 characters.
    let window = match window {
        LogWindow::Tail => LogWindow::Tail,
        LogWindow::Page(page) => LogWindow::Page(page.max(1)),
        LogWindow::Search { text, page } => {
            let text: String = text.trim().chars().take(200).collect();
            if text.is_empty() {
                LogWindow::Page(page.max(1))
            } else {
                LogWindow::Search { text, page: page.max(1) }
            }
        }
    };
    let Some(row) = store.execution(id).await? else { return Ok(None) };
    let event = store.event(&row.event_key).await?.map(|e| pretty(&e.event)).unwrap_or_default();
    let last = store.last_log_seq(id).await?;
    let (lines, log_total) = match &window {
        LogWindow::Tail => (store.log_tail(id, Some(LOG_PAGE_LINES)).await?, last.max(0) as u64),
        LogWindow::Page(page) => {
            let first = (page - 1).saturating_mul(LOG_PAGE_LINES) as i64 + 1;
            (store.log_range(id, first, first + LOG_PAGE_LINES as i64 - 1).await?, last.max(0) as u64)
        }
        LogWindow::Search { text, page } => {
            let offset = (page - 1).saturating_mul(LOG_PAGE_LINES);
            store.log_search(id, text, offset, LOG_PAGE_LINES, LOG_SEARCH_COUNT_LIMIT).await?
        }
    };
    let log_truncated = window == LogWindow::Tail && lines.first().is_some_and(|first| first.seq > 1);
    let log = lines.into_iter().map(|l| LogLine { seq: l.seq, stream: l.stream, text: l.text }).collect();
    let attempts = store
        .attempts(id)
        .await?
        .into_iter()
        .map(|a| AttemptSummary {
            attempt: a.attempt,
            status: ExecutionStatus::parse(&a.status),
            exit_code: a.exit_code,
            error: a.error,
            started_at: a.started_at.map(|t| t.to_rfc3339()),
            finished_at: a.finished_at.to_rfc3339(),
        })
        .collect();
    Ok(Some(ExecutionDetail {
        attempts,
        error: row.error.clone(),
        params: pretty(&row.params),
        event,
        log,
        log_truncated,
        log_window: window,
        log_total,
        summary: execution_summary(row),
    }))
}

fn service_summary(row: &ServiceListing, last_run: Option<ExecutionSummary>) -> ServiceSummary {
    let list = |json: &str| serde_json::from_str::<Vec<String>>(json).unwrap_or_default();
    ServiceSummary {
        name: row.name.clone(),
        project: row.project.clone(),
        kind: row.kind.clone(),
        description: row.description.clone(),
        active: row.active,
        allow_manual_triggering: row.allow_manual_triggering,
        trigger_events: serde_json::from_str::<Vec<crate::catalog::Trigger>>(&row.trigger_events)
            .unwrap_or_default()
            .iter()
            .map(crate::catalog::Trigger::label)
            .collect(),
        tags: list(&row.tags),
        last_run,
    }
}

pub fn execution_summary(row: execution::Model) -> ExecutionSummary {
    ExecutionSummary {
        status: ExecutionStatus::parse(&row.status),
        attempt: row.attempt,
        max_attempts: row.max_attempts,
        created_at: row.created_at.to_rfc3339(),
        started_at: row.started_at.map(|t| t.to_rfc3339()),
        finished_at: row.finished_at.map(|t| t.to_rfc3339()),
        id: row.id,
        service: row.service,
        project: row.project,
        event_id: row.event_id,
        event_type: row.event_type,
        exit_code: row.exit_code,
        reason: row.reason,
        job_name: row.job_name,
        revision: row.revision,
    }
}

/// JSON pretty-printed; text that is not JSON as it is.
fn pretty(json: &str) -> String {
    serde_json::from_str::<Value>(json)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| json.to_owned())
}
