//! `/projects`: every project with its source, last sync (commit, when, result), service count and problems;
//! admins add projects here (a Git repository, a directory on k8x's machine, or uploaded archives).

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use model::projects::{short_revision, ProjectView};

use crate::{
    api::{AddProject, ListProjects},
    codec::page_data,
    components::{session::Me, status::short_time},
};

#[component]
pub fn ProjectsPage() -> impl IntoView {
    let add = ServerAction::<AddProject>::new();
    let projects = page_data(|| ListProjects {}, move || add.version().get());
    // A project added: its page shows how the first sync went.
    Effect::new(move |_| {
        if let Some(Ok(name)) = add.value().get() {
            use_navigate()(&format!("/projects/{name}"), Default::default());
        }
    });
    view! {
        <h1>"Projects"</h1>
        <Suspense fallback=|| view! { <p class="empty">"Loading projects…"</p> }>
            {move || Suspend::new(async move {
                let is_admin = Me::get().await.is_some_and(|me| me.is_admin);
                let list = match projects.await {
                    Err(err) => return view! { <p class="error">{err.to_string()}</p> }.into_any(),
                    Ok(list) => list,
                };
                view! {
                    {if list.is_empty() {
                        view! { <p class="empty">"No projects yet."</p> }.into_any()
                    } else {
                        view! { <ProjectTable list/> }.into_any()
                    }}
                    {is_admin.then(|| view! { <AddForm add/> })}
                }.into_any()
            })}
        </Suspense>
    }
}

#[component]
fn ProjectTable(list: Vec<ProjectView>) -> impl IntoView {
    view! {
        <table class="list" id="projects">
            <thead><tr>
                <th>"Name"</th><th>"Source"</th><th>"Services"</th><th>"Last sync"</th><th>"Result"</th><th>"Problems"</th>
            </tr></thead>
            <tbody>{list.into_iter().map(|p| {
                let href = format!("/projects/{}", p.name);
                let sync = p.last_sync.clone();
                view! {
                    <tr>
                        <td><a href=href>{p.name.clone()}</a></td>
                        <td>{source_text(&p)}</td>
                        <td>{p.services}</td>
                        <td>{sync.as_ref().map(|s| {
                            let revision = s.revision.as_deref().map(short_revision).unwrap_or("—").to_owned();
                            view! { <code>{revision}</code>" " <span class="muted">{short_time(&s.started_at)}</span> }
                        })}</td>
                        <td>{sync.as_ref().map(|s| view! { <span class=format!("sync sync-{}", s.result)>{s.result.clone()}</span> })}</td>
                        <td>{sync.as_ref().map(|s| s.problems.len() + usize::from(s.error.is_some())).unwrap_or(0)}</td>
                    </tr>
                }
            }).collect_view()}</tbody>
        </table>
    }
}

/// `git https://… (main, services/)`, `directory /srv/…`, `archives`.
pub fn source_text(p: &ProjectView) -> String {
    match p.kind.as_str() {
        "git" => {
            let mut text = format!("git {}", p.location.as_deref().unwrap_or(""));
            let branch = p.branch.as_deref().unwrap_or("main");
            match &p.subdir {
                Some(dir) => text.push_str(&format!(" ({branch}, {dir}/)")),
                None => text.push_str(&format!(" ({branch})")),
            }
            text
        }
        "directory" => format!("directory {}", p.location.as_deref().unwrap_or("")),
        _ => "uploaded archives".into(),
    }
}

#[component]
fn AddForm(add: ServerAction<AddProject>) -> impl IntoView {
    view! {
        <h2>"Add a project"</h2>
        {move || match add.value().get() {
            Some(Err(err)) => Some(view! { <p class="error" id="action-error">{err.to_string()}</p> }),
            _ => None,
        }}
        <ActionForm action=add attr:class="admin-form" attr:id="add-project">
            <div class="field"><label for="p-name">"Name"</label><input id="p-name" type="text" name="name" required placeholder="team-services"/></div>
            <div class="field"><label for="p-description">"Description"</label><input id="p-description" type="text" name="description"/></div>
            <div class="field">
                <label for="p-source">"Source"</label>
                <select id="p-source" name="source">
                    <option value="git">"Git repository"</option>
                    <option value="directory">"Directory on the k8x machine"</option>
                    <option value="archive">"Uploaded archives"</option>
                </select>
            </div>
            <div class="field"><label for="p-url">"Repository URL or directory"</label><input id="p-url" type="text" name="url" placeholder="https://git.example/team/services.git"/></div>
            <div class="field"><label for="p-branch">"Branch"</label><input id="p-branch" type="text" name="branch" placeholder="main"/></div>
            <div class="field"><label for="p-path">"Directory in the repository"</label><input id="p-path" type="text" name="path" placeholder="(the whole repository)"/></div>
            <div class="field"><label for="p-token">"https token"</label><input id="p-token" type="password" name="token" autocomplete="off"/></div>
            <div class="field"><label for="p-interval">"Sync every (seconds)"</label><input id="p-interval" type="number" name="interval_seconds" min="5"/></div>
            <p class="muted">"An ssh URL (git@host:repo.git) gets a deploy key, shown on the project's page to add to the repository."</p>
            <button type="submit">"Add and sync"</button>
        </ActionForm>
    }
}
