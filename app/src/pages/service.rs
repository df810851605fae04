//! `/services/{name}`: the manifest, deployment, configs, secret names, the Run button (with the
//! `parameters.json` form when the service has one), the run history, the revisions its runs used, a warning
//! when its secrets come from a repository, and (admins) its own secrets and configs.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use model::{projects::short_revision, views::ServiceDetail};

use crate::codec::page_data;
use crate::{
    api::GetService,
    components::{
        run_form::RunForm,
        session::Me,
        status::{short_id, short_time, StatusBadge},
        values::ScopedValues,
    },
};

#[component]
pub fn ServicePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let service = page_data(move || GetService { name: name() }, || 0);
    let run_error = move || query.read().get("run_error");
    view! {
        <Suspense fallback=|| view! { <p class="empty">"Loading service…"</p> }>
            {move || Suspend::new(async move {
                match service.await {
                    Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                    Ok(None) => view! { <h1>"No such service"</h1> }.into_any(),
                    Ok(Some(detail)) => {
                        let can_operate = Me::get().await.is_some_and(|me| me.can_operate);
                        view! { <Service detail run_error=run_error() can_operate/> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn Service(detail: ServiceDetail, run_error: Option<String>, can_operate: bool) -> impl IntoView {
    let s = detail.summary.clone();
    view! {
        <h1>{s.name.clone()} " " <span class="muted">{format!("({})", s.project)}</span></h1>
        <p>{s.description.clone()}</p>
        <p>
            "Triggered by: "
            {s.trigger_events.iter().map(|t| view! { <code class="chip">{t.clone()}</code> }).collect_view()}
            {(!s.active).then(|| view! { <span class="badge status-failed">"inactive"</span> })}
        </p>
        {detail.schedule.clone().map(|s| view! {
            <p id="schedule">
                "Runs on schedule " <code>{s.expression}</code> " (" {s.timezone} ", missed times: " {s.missed} "). Next (UTC): "
                {s.next.iter().map(|t| short_time(t)).collect::<Vec<_>>().join(", ")}
            </p>
        })}
        {detail.revision.as_deref().map(|r| view! { <p class="muted">"Revision " <code id="revision">{short_revision(r).to_owned()}</code></p> })}
        {detail.secrets_file_warning.clone().map(|w| view! { <p class="warning" id="secrets-warning">{w}</p> })}
        {run_error.map(|e| view! { <p class="error" id="run-error">"The run was refused: " {e}</p> })}
        {if s.active && s.allow_manual_triggering && can_operate {
            view! { <RunForm service=s.name.clone() form=detail.parameters.clone()/> }.into_any()
        } else if !can_operate {
            view! { <p class="muted" id="view-only">"You may look, not run: ask an admin for the operator role."</p> }.into_any()
        } else {
            view! { <p class="muted">"This service cannot be run by hand."</p> }.into_any()
        }}
        <h2>"Runs"</h2>
        {if detail.recent_runs.is_empty() {
            view! { <p class="empty">"Not run yet."</p> }.into_any()
        } else {
            view! {
                <table class="list" id="runs">
                    <thead><tr><th>"Execution"</th><th>"Status"</th><th>"Event"</th><th>"Revision"</th><th>"Created"</th></tr></thead>
                    <tbody>{detail.recent_runs.iter().map(|r| view! {
                        <tr>
                            <td><a href=format!("/executions/{}", r.id)><code>{short_id(&r.id)}</code></a></td>
                            <td><StatusBadge status=r.status/></td>
                            <td><code>{r.event_type.clone()}</code></td>
                            <td><code>{r.revision.as_deref().map(short_revision).unwrap_or("").to_owned()}</code></td>
                            <td>{short_time(&r.created_at)}</td>
                        </tr>
                    }).collect_view()}</tbody>
                </table>
            }.into_any()
        }}
        {(!detail.revisions.is_empty()).then(|| view! {
            <h2>"Revisions"</h2>
            <table class="list" id="revisions">
                <thead><tr><th>"Revision"</th><th>"Runs"</th><th>"Last run"</th></tr></thead>
                <tbody>{detail.revisions.iter().map(|r| view! {
                    <tr>
                        <td><code>{r.revision.as_deref().map(short_revision).unwrap_or("(before revisions were kept)").to_owned()}</code></td>
                        <td>{r.runs}</td>
                        <td>{short_time(&r.last_run)}</td>
                    </tr>
                }).collect_view()}</tbody>
            </table>
        })}
        <h2>"manifest.json"</h2>
        <pre class="file">{detail.manifest.clone()}</pre>
        <h2>"deployment.yaml"</h2>
        <pre class="file">{detail.deployment.clone()}</pre>
        {detail.configs.clone().map(|c| view! { <h2>"configs.json"</h2><pre class="file">{c}</pre> })}
        {(!detail.secret_names.is_empty()).then(|| view! {
            <h2>"Secrets"</h2>
            <table class="list" id="secrets"><tbody>
                {detail.secret_names.iter().map(|k| view! { <tr><td><code>{k.clone()}</code></td><td>"••••••"</td></tr> }).collect_view()}
            </tbody></table>
        })}
        {detail.can_set_values.then(|| view! { <ScopedValues scope="service" owner=s.name.clone()/> })}
    }
}
