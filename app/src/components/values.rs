//! The secrets and configs set for a scope (the platform, a project, a service), for admins: secrets listed
//! by name as set (their values are write-only), configs with their JSON; a form to set one and a button to
//! remove each.

use leptos::prelude::*;

use crate::{
    api::{GetScopedValues, RemoveScopedValue, SetScopedValue},
    codec::page_data,
};

#[component]
pub fn ScopedValues(scope: &'static str, owner: String) -> impl IntoView {
    let set = ServerAction::<SetScopedValue>::new();
    let remove = ServerAction::<RemoveScopedValue>::new();
    let values = {
        let owner = owner.clone();
        page_data(
            move || GetScopedValues { scope: scope.into(), owner: owner.clone() },
            move || set.version().get() + remove.version().get(),
        )
    };
    let owner_for_rows = owner.clone();
    view! {
        <section class="scoped-values" id=format!("values-{scope}")>
            <h2>"Secrets and configs for this " {scope}</h2>
            <p class="muted">
                "Set here, they reach every run of "
                {match scope { "platform" => "every service", "project" => "its services", _ => "this service" }}
                "; a service's own beat its project's, which beat the platform's. Secret values are write-only."
            </p>
            {move || match set.value().get().or(remove.value().get()) {
                Some(Err(err)) => Some(view! { <p class="error" id="values-error">{err.to_string()}</p> }),
                _ => None,
            }}
            <Suspense fallback=|| ()>
                {move || {
                    let owner = owner_for_rows.clone();
                    Suspend::new(async move {
                        match values.await {
                            Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                            Ok(v) if v.secrets.is_empty() && v.configs.is_empty() => {
                                view! { <p class="empty">"None set."</p> }.into_any()
                            }
                            Ok(v) => view! {
                                <table class="list values">
                                    <thead><tr><th>"Kind"</th><th>"Name"</th><th>"Value"</th><th></th></tr></thead>
                                    <tbody>
                                        {v.secrets.into_iter().map(|s| view! {
                                            <tr><td>"secret"</td><td>{s.key.clone()}</td>
                                                <td class="muted">"set by " {s.updated_by} ", " {s.updated_at}</td>
                                                <td><Remove remove scope owner=owner.clone() kind="secret" key=s.key/></td></tr>
                                        }).collect_view()}
                                        {v.configs.into_iter().map(|c| view! {
                                            <tr><td>"config"</td><td>{c.key.clone()}</td><td><code>{c.value}</code></td>
                                                <td><Remove remove scope owner=owner.clone() kind="config" key=c.key/></td></tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any(),
                        }
                    })
                }}
            </Suspense>
            <ActionForm action=set attr:class="admin-form" attr:id=format!("set-value-{scope}")>
                <input type="hidden" name="scope" value=scope/>
                <input type="hidden" name="owner" value=owner/>
                <div class="field">
                    <label>"Kind"</label>
                    <select name="kind"><option value="secret">"secret"</option><option value="config">"config"</option></select>
                </div>
                <div class="field"><label>"Name"</label><input type="text" name="key" required placeholder="API_TOKEN"/></div>
                <div class="field"><label>"Value"</label><input type="password" name="value" autocomplete="off"/></div>
                <button type="submit">"Set"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn Remove(
    remove: ServerAction<RemoveScopedValue>,
    scope: &'static str,
    owner: String,
    kind: &'static str,
    key: String,
) -> impl IntoView {
    view! {
        <ActionForm action=remove attr:class="inline">
            <input type="hidden" name="scope" value=scope/>
            <input type="hidden" name="owner" value=owner/>
            <input type="hidden" name="kind" value=kind/>
            <input type="hidden" name="key" value=key/>
            <button type="submit" class="danger">"Remove"</button>
        </ActionForm>
    }
}
