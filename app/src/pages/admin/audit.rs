//! `/admin/audit`: who signed in, ran, cancelled or changed what, when and from where; newest first.

use leptos::prelude::*;

use crate::codec::page_data;
use crate::{api::AuditTrail, components::status::short_time};

#[component]
pub fn AuditPage() -> impl IntoView {
    let trail = page_data(|| AuditTrail {}, || 0);
    view! {
        <h1>"Audit trail"</h1>
        <Suspense fallback=|| view! { <p class="empty">"Loading the audit trail…"</p> }>
            {move || Suspend::new(async move {
                match trail.await {
                    Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="list" id="audit">
                            <thead><tr><th>"When"</th><th>"Who"</th><th>"What"</th><th>"To what"</th><th>"From"</th><th>"Detail"</th></tr></thead>
                            <tbody>{list.into_iter().map(|a| view! {
                                <tr>
                                    <td>{short_time(&a.at)}</td>
                                    <td>{a.actor.clone()}</td>
                                    <td><code>{a.action.clone()}</code></td>
                                    <td>{a.target.clone()}</td>
                                    <td>{a.address.clone()}</td>
                                    <td>{a.detail.clone()}</td>
                                </tr>
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
