//! `/admin/sources`: event sources that sign their requests (`X-Hub-Signature-256`) instead of sending a
//! token; add (the secret is shown once) and remove.

use leptos::prelude::*;

use super::{done, once, Outcome};
use crate::codec::page_data;
use crate::{
    api::{AddSource, ListSources, RemoveSource},
    components::status::short_time,
};

#[component]
pub fn SourcesPage() -> impl IntoView {
    let add = ServerAction::<AddSource>::new();
    let remove = ServerAction::<RemoveSource>::new();
    let sources = page_data(|| ListSources {}, move || add.version().get() + remove.version().get());
    view! {
        <h1>"Event sources"</h1>
        <p class="muted">
            "A source posts CloudEvents, or plain JSON webhooks (a Git host, a bucket), with "
            <code>"X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body>"</code>
            " under its secret: for senders that cannot send a token."
        </p>
        <Outcome value=add.value() shown=shown_secret/>
        <Outcome value=remove.value() shown=done/>
        <Suspense fallback=|| view! { <p class="empty">"Loading sources…"</p> }>
            {move || Suspend::new(async move {
                match sources.await {
                    Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="empty">"No sources."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="list" id="sources">
                            <thead><tr><th>"Name"</th><th>"Endpoints"</th><th>"Webhooks become"</th><th>"Added by"</th><th>"Added"</th><th></th></tr></thead>
                            <tbody>{list.into_iter().map(|s| view! {
                                <tr>
                                    <td>{s.name.clone()}</td>
                                    <td><code>{s.endpoint.clone()}</code><br/><code>{s.webhook.clone()}</code></td>
                                    <td class="muted">{s.shape.clone()}</td>
                                    <td>{s.created_by.clone()}</td>
                                    <td>{short_time(&s.created_at)}</td>
                                    <td>
                                        <ActionForm action=remove attr:class="inline">
                                            <input type="hidden" name="name" value=s.name.clone()/>
                                            <button type="submit" class="danger">"Remove"</button>
                                        </ActionForm>
                                    </td>
                                </tr>
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Suspense>
        <h2>"Add a source"</h2>
        <ActionForm action=add attr:class="admin-form" attr:id="add-source">
            <div class="field"><label>"Name"</label><input type="text" name="name" placeholder="github" required/></div>
            <div class="field">
                <label>"Plain webhooks from"</label>
                <select name="preset">
                    <option value="">"(spelt out below)"</option>
                    <option value="github">"GitHub"</option>
                    <option value="gitlab">"GitLab"</option>
                    <option value="gitea">"Gitea"</option>
                    <option value="minio">"MinIO bucket notifications"</option>
                </select>
            </div>
            <div class="field"><label>"Type header"</label><input type="text" name="type_header" placeholder="X-GitHub-Event"/></div>
            <div class="field"><label>"Type field (JSON pointer)"</label><input type="text" name="type_field" placeholder="/EventName"/></div>
            <div class="field"><label>"Type prefix"</label><input type="text" name="type_prefix" placeholder="com.github."/></div>
            <div class="field"><label>"Id header"</label><input type="text" name="id_header" placeholder="X-GitHub-Delivery"/></div>
            <button type="submit">"Add"</button>
        </ActionForm>
    }
}

fn shown_secret(secret: String) -> AnyView {
    once("Secret", secret)
}
