//! `/executions`: the newest executions, newest first.

use leptos::prelude::*;

use crate::codec::page_data;
use crate::{
    api::ListExecutions,
    components::status::{short_id, short_time, StatusBadge},
};

#[component]
pub fn ExecutionsPage() -> impl IntoView {
    let executions = page_data(|| ListExecutions {}, || 0);
    view! {
        <h1>"Executions"</h1>
        <Suspense fallback=|| view! { <p class="empty">"Loading executions…"</p> }>
            {move || Suspend::new(async move {
                match executions.await {
                    Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="empty">"Nothing has run yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="list" id="executions">
                            <thead><tr>
                                <th>"Execution"</th><th>"Service"</th><th>"Status"</th><th>"Event type"</th>
                                <th>"Event id"</th><th>"Created"</th><th>"Finished"</th>
                            </tr></thead>
                            <tbody>{list.into_iter().map(|e| view! {
                                <tr data-event-id=e.event_id.clone()>
                                    <td><a href=format!("/executions/{}", e.id)><code>{short_id(&e.id)}</code></a></td>
                                    <td><a href=format!("/services/{}", e.service)>{e.service.clone()}</a></td>
                                    <td><StatusBadge status=e.status/></td>
                                    <td><code>{e.event_type.clone()}</code></td>
                                    <td><code>{e.event_id.clone()}</code></td>
                                    <td>{short_time(&e.created_at)}</td>
                                    <td>{e.finished_at.as_deref().map(short_time)}</td>
                                </tr>
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
