//! `/projects/{name}`: a project's source, its services (with the revision each was last changed in), the
//! history of syncs with what each added, changed, removed and found wrong, "Sync now", the deploy key and
//! the webhook to give the Git host; admins edit and remove the project here.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use model::projects::{short_revision, ProjectDetail, SyncView};

use super::projects::source_text;
use crate::{
    api::{EditProject, GetProject, RemoveProject, SyncProject},
    codec::page_data,
    components::{session::Me, status::short_time, values::ScopedValues},
};

#[component]
pub fn ProjectPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let upload = move || {
        let query = query.read();
        (query.get("uploaded"), query.get("upload_error"))
    };
    let name = move || params.read().get("name").unwrap_or_default();
    let sync = ServerAction::<SyncProject>::new();
    let edit = ServerAction::<EditProject>::new();
    let remove = ServerAction::<RemoveProject>::new();
    let project = page_data(move || GetProject { name: name() }, move || sync.version().get() + edit.version().get());
    Effect::new(move |_| {
        if let Some(Ok(())) = remove.value().get() {
            use_navigate()("/projects", Default::default());
        }
    });
    view! {
        <Suspense fallback=|| view! { <p class="empty">"Loading the project…"</p> }>
            {move || Suspend::new(async move {
                let me = Me::get().await;
                let (can_operate, is_admin) = me.map(|m| (m.can_operate, m.is_admin)).unwrap_or_default();
                match project.await {
                    Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                    Ok(None) => view! { <p class="empty">"There is no such project."</p> }.into_any(),
                    Ok(Some(detail)) => view! {
                        <Project detail can_operate is_admin sync edit remove upload=upload()/>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Project(
    detail: ProjectDetail,
    can_operate: bool,
    is_admin: bool,
    sync: ServerAction<SyncProject>,
    edit: ServerAction<EditProject>,
    remove: ServerAction<RemoveProject>,
    /// How an archive upload went: its result, or why it was refused.
    upload: (Option<String>, Option<String>),
) -> impl IntoView {
    let p = detail.project.clone();
    let name = p.name.clone();
    let syncable = p.kind != "archive";
    view! {
        <h1>"Project " {p.name.clone()}</h1>
        {(!p.description.is_empty()).then(|| view! { <p class="description">{p.description.clone()}</p> })}
        <dl class="facts">
            <dt>"Source"</dt><dd id="project-source">{source_text(&p)}</dd>
            <dt>"Services"</dt><dd>{p.services}</dd>
            {p.sync_interval_seconds.map(|s| view! { <dt>"Synced every"</dt><dd>{format!("{s} s")}</dd> })}
            {p.has_token.then(|| view! { <dt>"https token"</dt><dd>"set"</dd> })}
        </dl>
        {(can_operate && syncable).then(|| {
            let name = name.clone();
            view! {
                <ActionForm action=sync attr:class="inline" attr:id="sync-now">
                    <input type="hidden" name="name" value=name/>
                    <button type="submit">"Sync now"</button>
                </ActionForm>
            }
        })}
        {move || match sync.value().get() {
            Some(Err(err)) => Some(view! { <p class="error" id="sync-error">{err.to_string()}</p> }.into_any()),
            Some(Ok(s)) => Some(view! { <p class="once" id="sync-result">{format!("Synced: {}", s.result)}</p> }.into_any()),
            None => None,
        }}
        {upload.0.map(|result| view! { <p class="once" id="upload-result">{format!("Uploaded: {result}")}</p> })}
        {upload.1.map(|error| view! { <p class="error" id="upload-error">"The archive was refused: " {error}</p> })}
        {(is_admin && !syncable).then(|| view! {
            <form method="post" enctype="multipart/form-data" class="admin-form" id="upload-archive"
                action=format!("/api/v1/projects/{}/archive", name)>
                <div class="field">
                    <label for="archive">"Archive of service directories (.tar.gz or .zip)"</label>
                    <input id="archive" type="file" name="archive" accept=".tar.gz,.tgz,.zip" required/>
                </div>
                <button type="submit">"Upload"</button>
            </form>
        })}
        {p.deploy_key_public.clone().map(|key| view! {
            <h2>"Deploy key"</h2>
            <p class="muted">"Add this public key to the repository as a read-only deploy key:"</p>
            <pre class="key" id="deploy-key">{key}</pre>
            {p.ssh_host_key.clone().map(|host| view! {
                <p class="muted">"The server's host key, pinned at the first sync: " <code id="host-key">{host}</code></p>
            })}
        })}
        {(p.kind == "git").then(|| view! {
            <h2>"Push webhook"</h2>
            <p class="muted">
                "In the Git host, add a push webhook to this k8x's address followed by "
                <code id="webhook-path">{detail.webhook_path.clone()}</code>
                ", content type application/json"
                {detail.webhook_secret.clone().map(|secret| view! {
                    ", with the secret " <code id="webhook-secret">{secret}</code>
                })}
                "."
            </p>
        })}
        <h2>"Services"</h2>
        {if detail.services.is_empty() {
            view! { <p class="empty">"No services."</p> }.into_any()
        } else {
            view! {
                <table class="list" id="project-services">
                    <thead><tr><th>"Name"</th><th>"Directory"</th><th>"Revision"</th><th>"Active"</th></tr></thead>
                    <tbody>{detail.services.iter().map(|s| view! {
                        <tr>
                            <td><a href=format!("/services/{}", s.name)>{s.name.clone()}</a></td>
                            <td>{s.dir.clone().unwrap_or_default()}</td>
                            <td><code>{s.revision.as_deref().map(short_revision).unwrap_or("").to_owned()}</code></td>
                            <td>{if s.active { "yes" } else { "no" }}</td>
                        </tr>
                    }).collect_view()}</tbody>
                </table>
            }.into_any()
        }}
        <h2>"Syncs"</h2>
        {if detail.syncs.is_empty() {
            view! { <p class="empty">"Not synced yet."</p> }.into_any()
        } else {
            view! {
                <div id="syncs">{detail.syncs.into_iter().map(|s| view! { <Sync sync=s/> }).collect_view()}</div>
            }.into_any()
        }}
        {is_admin.then(|| view! { <ScopedValues scope="project" owner=name.clone()/> })}
        {is_admin.then(|| view! { <Edit project=p.clone() edit remove/> })}
    }
}

#[component]
fn Sync(sync: SyncView) -> impl IntoView {
    let list = |label: &'static str, names: Vec<String>| {
        (!names.is_empty()).then(|| view! { <p>{label} ": " {names.join(", ")}</p> })
    };
    let revision = sync.revision.as_deref().map(short_revision).unwrap_or("").to_owned();
    view! {
        <div class=format!("sync-entry sync-{}", sync.result)>
            <p>
                <strong class="sync-result">{sync.result.clone()}</strong>
                " " <code>{revision}</code>
                " " {sync.message.clone().unwrap_or_default()}
                {sync.author.clone().map(|a| view! { <span class="muted">" by " {a}</span> })}
                <span class="muted">" — " {sync.trigger.clone()} ", " {short_time(&sync.started_at)}</span>
            </p>
            {sync.error.clone().map(|e| view! { <p class="error">{e}</p> })}
            {list("Added", sync.added.clone())}
            {list("Changed", sync.changed.clone())}
            {list("Removed", sync.removed.clone())}
            {list("Invalid (last good version kept)", sync.invalid.clone())}
            {(!sync.not_run.is_empty()).then(|| view! {
                <p class="muted">"Not run by k8x: "
                    {sync.not_run.iter().map(|n| format!("{} ({})", n.dir, n.kind)).collect::<Vec<_>>().join(", ")}
                </p>
            })}
            {(!sync.problems.is_empty()).then(|| view! {
                <ul class="problems">{sync.problems.iter().map(|p| view! { <li>{p.to_string()}</li> }).collect_view()}</ul>
            })}
        </div>
    }
}

#[component]
fn Edit(
    project: model::projects::ProjectView,
    edit: ServerAction<EditProject>,
    remove: ServerAction<RemoveProject>,
) -> impl IntoView {
    let is_git = project.kind == "git";
    let interval = project.sync_interval_seconds.map(|s| s.to_string()).unwrap_or_default();
    let (name, description) = (project.name.clone(), project.description.clone());
    let removed = name.clone();
    let url = project.location.clone().unwrap_or_default();
    let branch = project.branch.clone().unwrap_or_default();
    let subdir = project.subdir.clone().unwrap_or_default();
    view! {
        <h2>"Change"</h2>
        {move || match edit.value().get().or(remove.value().get()) {
            Some(Err(err)) => Some(view! { <p class="error" id="action-error">{err.to_string()}</p> }),
            _ => None,
        }}
        <ActionForm action=edit attr:class="admin-form" attr:id="edit-project">
            <input type="hidden" name="name" value=name/>
            <div class="field"><label for="e-description">"Description"</label><input id="e-description" type="text" name="description" value=description/></div>
            {is_git.then(|| view! {
                <div class="field"><label for="e-url">"Repository URL"</label><input id="e-url" type="text" name="url" value=url/></div>
                <div class="field"><label for="e-branch">"Branch"</label><input id="e-branch" type="text" name="branch" value=branch/></div>
                <div class="field"><label for="e-path">"Directory in the repository"</label><input id="e-path" type="text" name="path" value=subdir/></div>
                <div class="field"><label for="e-token">"https token (empty: unchanged)"</label><input id="e-token" type="password" name="token" autocomplete="off"/></div>
            })}
            <div class="field"><label for="e-interval">"Sync every (seconds; empty: on demand and push only)"</label><input id="e-interval" type="number" name="interval_seconds" min="5" value=interval/></div>
            <button type="submit">"Save"</button>
        </ActionForm>
        <ActionForm action=remove attr:class="inline" attr:id="remove-project">
            <input type="hidden" name="name" value=removed/>
            <button type="submit" class="danger">"Remove the project and its services"</button>
        </ActionForm>
    }
}
