//! `/executions/{id}`: what ran, why, with what parameters, and its log — live while it runs.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use model::views::{ExecutionDetail, ExecutionStatus, LogWindow, LOG_PAGE_LINES, LOG_SEARCH_COUNT_LIMIT};

use crate::codec::page_data;
use crate::{
    api::GetExecution,
    components::{log_view::LogView, session::Me, status::short_time},
};

#[component]
pub fn ExecutionPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").unwrap_or_default();
    // The log's part, as the URL has it (the server makes a `LogWindow` of it).
    let log = move |part: &str| query.read().get(part);
    // An empty search (the form sends `log_q=`) shows the first page; the form encoding of the arguments drops
    // an empty value, so the page is named instead.
    let log_page = move || log("log_page").or_else(|| log("log_q").map(|_| "1".to_owned()));
    let execution =
        page_data(move || GetExecution { id: id(), log: log("log"), log_page: log_page(), log_q: log("log_q") }, || 0);
    // When the live log reports the end, load the page again: times, exit code and error fill in.
    let reload = Callback::new(move |()| execution.refetch());
    view! {
        // A Transition keeps the page on screen while it reloads.
        <Transition fallback=|| view! { <p class="empty">"Loading execution…"</p> }>
            {move || Suspend::new(async move {
                match execution.await {
                    Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                    Ok(None) => view! {
                        <h1>"Execution " <code>{id()}</code></h1>
                        <p class="muted" id="waiting">"Waiting for the dispatcher to create this execution…"</p>
                        <LogView execution_id=id() initial=vec![] status=ExecutionStatus::Queued exit_code=None on_end=reload/>
                    }.into_any(),
                    Ok(Some(detail)) => {
                        let can_operate = Me::get().await.is_some_and(|me| me.can_operate);
                        view! { <Execution detail reload can_operate/> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn Execution(detail: ExecutionDetail, reload: Callback<()>, can_operate: bool) -> impl IntoView {
    let s = detail.summary;
    let cancellable = !s.status.is_finished() && can_operate;
    view! {
        <h1>"Execution of " <a href=format!("/services/{}", s.service)>{s.service.clone()}</a></h1>
        <table class="facts"><tbody>
            <tr><th>"Execution"</th><td><code>{s.id.clone()}</code></td></tr>
            <tr><th>"Event"</th><td><code>{s.event_type.clone()}</code> " " <code>{s.event_id.clone()}</code></td></tr>
            <tr><th>"Created"</th><td>{short_time(&s.created_at)}</td></tr>
            <tr><th>"Started"</th><td>{s.started_at.as_deref().map(short_time)}</td></tr>
            <tr><th>"Finished"</th><td id="finished-at">{s.finished_at.as_deref().map(short_time)}</td></tr>
            {s.job_name.clone().map(|job| view! { <tr><th>"Job"</th><td><code id="job-name">{job}</code></td></tr> })}
            {s.reason.clone().map(|reason| view! { <tr><th>"Reason"</th><td id="execution-reason">{reason}</td></tr> })}
            {(s.max_attempts > 1).then(|| view! {
                <tr><th>"Attempt"</th><td id="attempt">{format!("{} of {}", s.attempt, s.max_attempts)}</td></tr>
            })}
        </tbody></table>
        {(!detail.attempts.is_empty()).then(|| view! {
            <h2>"Earlier attempts"</h2>
            <table class="list" id="attempts"><thead><tr>
                <th>"Attempt"</th><th>"Ended"</th><th>"Status"</th><th>"Why"</th>
            </tr></thead><tbody>
                {detail.attempts.iter().map(|a| view! {
                    <tr>
                        <td>{a.attempt}</td>
                        <td>{short_time(&a.finished_at)}</td>
                        <td><span class=format!("status {}", a.status.as_str())>{a.status.as_str()}</span></td>
                        <td>{a.error.clone()}</td>
                    </tr>
                }).collect_view()}
            </tbody></table>
        })}
        {cancellable.then(|| view! {
            // A plain form: it works before the page is hydrated, and without JavaScript.
            <form method="post" action=format!("/executions/{}/cancel", s.id) class="cancel">
                <button type="submit" id="cancel">"Cancel"</button>
            </form>
        })}
        {detail.error.map(|e| view! { <p class="error" id="execution-error">{e}</p> })}
        <h2>"Log"</h2>
        <LogNavigation id=s.id.clone() window=detail.log_window.clone() total=detail.log_total shown=detail.log.len() truncated=detail.log_truncated/>
        <LogView execution_id=s.id.clone() initial=detail.log status=s.status exit_code=s.exit_code on_end=reload
            live=detail.log_window == LogWindow::Tail/>
        <details><summary>"Parameters (K8X_PARAMS)"</summary><pre class="file" id="params">{detail.params}</pre></details>
        <details><summary>"Event"</summary><pre class="file">{detail.event}</pre></details>
    }
}

/// Above the log: a search form, and where the lines shown sit in the whole log, with links to the pages
/// around them (plain links and a GET form: they work before hydration and without JavaScript). The links load
/// the page from the server (`rel="external"`): a page of 5,000 lines renders faster there than it is patched
/// into the one shown.
#[component]
fn LogNavigation(id: String, window: LogWindow, total: u64, shown: usize, truncated: bool) -> impl IntoView {
    let base = format!("/executions/{id}");
    let pages = total.div_ceil(LOG_PAGE_LINES).max(1);
    let page_link = {
        let base = base.clone();
        move |page: u64, search: Option<&str>| match search {
            Some(text) => {
                let q: String = form_urlencoded::byte_serialize(text.as_bytes()).collect();
                format!("{base}?log_q={q}&log_page={page}")
            }
            None => format!("{base}?log_page={page}"),
        }
    };
    let (page, search) = match &window {
        LogWindow::Tail => (None, None),
        LogWindow::Page(page) => (Some(*page), None),
        LogWindow::Search { text, page } => (Some(*page), Some(text.clone())),
    };
    let place = match (&window, page) {
        (LogWindow::Tail, _) => None,
        (LogWindow::Search { text, .. }, Some(page)) => {
            let first = (page - 1) * LOG_PAGE_LINES + 1;
            let more = if total >= LOG_SEARCH_COUNT_LIMIT { "more than " } else { "" };
            Some(format!("Lines {first}–{} of {more}{total} containing “{text}”", first + shown as u64 - 1))
        }
        (_, Some(page)) => {
            let first = (page - 1) * LOG_PAGE_LINES + 1;
            Some(format!("Lines {first}–{} of {total}", (first + shown as u64).saturating_sub(1)))
        }
        _ => None,
    };
    let pages_of = if search.is_some() { total.div_ceil(LOG_PAGE_LINES).max(1) } else { pages };
    view! {
        <form method="get" action=base.clone() class="log-search" id="log-search">
            <input type="search" name="log_q" placeholder="Search the log…" value=search.clone().unwrap_or_default()/>
            <button type="submit">"Search"</button>
        </form>
        {truncated.then(|| view! {
            <p class="muted" id="log-truncated">
                {format!("The newest {} of {total} lines. ", shown)}
                <a href=page_link(1, None) id="whole-log" rel="external">"Show the whole log"</a>
                {format!(" ({pages} pages) or download it.")}
            </p>
        })}
        {place.map(|place| {
            let page = page.unwrap_or(1);
            let search = search.clone();
            view! {
                <p class="pager" id="log-pager">
                    <span id="log-place">{place}</span>
                    {(page > 1).then(|| view! { " " <a rel="prev external" href=page_link(page - 1, search.as_deref())>"← Previous"</a> })}
                    {(page < pages_of).then(|| view! { " " <a rel="next external" href=page_link(page + 1, search.as_deref())>"Next →"</a> })}
                    " " <a href=base.clone() id="log-newest" rel="external">"Newest lines (live)"</a>
                </p>
            }
        })}
    }
}
