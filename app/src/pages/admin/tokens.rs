//! `/admin/tokens`: API tokens (prefix, owner, scopes, last used); create (shown once) and revoke.

use leptos::prelude::*;

use super::{done, once, Outcome};
use crate::codec::page_data;
use crate::{
    api::{CreateToken, ListTokens, RevokeToken},
    components::status::short_time,
};

#[component]
pub fn TokensPage() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = page_data(|| ListTokens {}, move || create.version().get() + revoke.version().get());
    view! {
        <h1>"API tokens"</h1>
        <p class="muted">
            "Send a token as " <code>"Authorization: Bearer …"</code> ". Scopes: " <code>"ingest"</code>
            " (post events), " <code>"read"</code> ", " <code>"operate"</code> " (run, cancel), "
            <code>"admin"</code> "."
        </p>
        <Outcome value=create.value() shown=shown_token/>
        <Outcome value=revoke.value() shown=done/>
        <Suspense fallback=|| view! { <p class="empty">"Loading tokens…"</p> }>
            {move || Suspend::new(async move {
                match tokens.await {
                    Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="empty">"No tokens."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="list" id="tokens">
                            <thead><tr>
                                <th>"Prefix"</th><th>"Name"</th><th>"Owner"</th><th>"Scopes"</th>
                                <th>"Created"</th><th>"Last used"</th><th></th>
                            </tr></thead>
                            <tbody>{list.into_iter().map(|t| view! {
                                <tr data-token=t.prefix.clone()>
                                    <td><code>{format!("{}…", t.prefix)}</code></td>
                                    <td>{t.name.clone()}</td>
                                    <td>{t.owner.clone()}</td>
                                    <td>{t.scopes.join(", ")}</td>
                                    <td>{short_time(&t.created_at)}</td>
                                    <td>{t.last_used_at.as_deref().map(short_time).unwrap_or_else(|| "never".into())}</td>
                                    <td>{match t.revoked_at {
                                        Some(at) => view! { <span class="muted">"revoked " {short_time(&at)}</span> }.into_any(),
                                        None => view! {
                                            <ActionForm action=revoke attr:class="inline">
                                                <input type="hidden" name="id" value=t.id.clone()/>
                                                <button type="submit" class="danger">"Revoke"</button>
                                            </ActionForm>
                                        }.into_any(),
                                    }}</td>
                                </tr>
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Suspense>
        <h2>"Create a token"</h2>
        <ActionForm action=create attr:class="admin-form" attr:id="create-token">
            <div class="field"><label>"Name"</label><input type="text" name="name" placeholder="what it is for" required/></div>
            <div class="field"><label>"Scopes"</label><input type="text" name="scopes" placeholder="ingest, read" required/></div>
            <div class="field"><label>"Owner"</label><input type="text" name="owner" placeholder="you, when empty"/></div>
            <button type="submit">"Create"</button>
        </ActionForm>
    }
}

fn shown_token(token: String) -> AnyView {
    once("Token", token)
}
