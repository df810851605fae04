//! `/admin/dead-letters`: records the dispatcher gave up on — why, where, the original record — and Replay.

use leptos::prelude::*;

use super::{done, Outcome};
use crate::codec::page_data;
use crate::{
    api::{ListDeadLetters, ReplayDeadLetter},
    components::status::short_time,
};

#[component]
pub fn DeadLettersPage() -> impl IntoView {
    let replay = ServerAction::<ReplayDeadLetter>::new();
    let letters = page_data(|| ListDeadLetters {}, move || replay.version().get());
    view! {
        <h1>"Dead letters"</h1>
        <p class="muted">
            "Records the dispatcher gave up on: not a CloudEvent, or handling that kept failing. The events behind them ran."
        </p>
        <Outcome value=replay.value() shown=done/>
        <Suspense fallback=|| view! { <p class="empty">"Loading dead letters…"</p> }>
            {move || Suspend::new(async move {
                match letters.await {
                    Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="empty">"None."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="list" id="dead-letters">
                            <thead><tr>
                                <th>"When"</th><th>"Event"</th><th>"Reason"</th><th>"Attempts"</th><th>"Record"</th><th></th>
                            </tr></thead>
                            <tbody>{list.into_iter().map(|d| view! {
                                <tr>
                                    <td>{short_time(&d.created_at)}</td>
                                    <td><code>{d.event_type.clone()}</code> " " <code>{d.event_id.clone()}</code></td>
                                    <td>{d.reason.clone()}</td>
                                    <td>{d.attempts}</td>
                                    <td><details><summary>{d.position.clone()}</summary><pre class="file">{d.record.clone()}</pre></details></td>
                                    <td>{match d.replayed_at {
                                        Some(at) => view! { <span class="muted">"replayed " {short_time(&at)}</span> }.into_any(),
                                        None => view! {
                                            <ActionForm action=replay attr:class="inline">
                                                <input type="hidden" name="id" value=d.id/>
                                                <button type="submit">"Replay"</button>
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
    }
}
