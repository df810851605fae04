//! `/services`: the services with their type, tags, trigger events and last run, fifty to a page (`?page=`);
//! `?q=` narrows the list to services whose name, description, project, tag or trigger event contains the text.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::codec::page_data;
use crate::{
    api::ListServices,
    components::status::{short_time, StatusBadge},
};

#[component]
pub fn ServicesPage() -> impl IntoView {
    let query = use_query_map();
    let search = move || query.read().get("q").unwrap_or_default();
    let page = move || query.read().get("page").and_then(|p| p.parse::<u64>().ok()).unwrap_or(1);
    let services = page_data(move || ListServices { search: search(), page: page() }, || 0);
    view! {
        <h1>"Services"</h1>
        <form method="get" action="/services" class="search">
            <input type="search" name="q" id="search" placeholder="Search name, tag, event…" value=search/>
            <button type="submit">"Search"</button>
        </form>
        <Suspense fallback=|| view! { <p class="empty">"Loading services…"</p> }>
            {move || Suspend::new(async move {
                match services.await {
                    Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                    Ok((page, _)) if page.total == 0 && !search().trim().is_empty() => view! {
                        <p class="empty">"No services match."</p>
                    }.into_any(),
                    Ok((page, problems)) => view! {
                        <Problems problems/>
                        <Pager page=page.clone() search=search()/>
                        <ServiceTable list=page.services/>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// "Services 51–100 of 1,000" with links to the previous and next pages.
#[component]
fn Pager(page: model::views::ServicePage, search: String) -> impl IntoView {
    let link = move |to: u64| {
        let q: String = form_urlencoded::byte_serialize(search.as_bytes()).collect();
        if q.is_empty() {
            format!("/services?page={to}")
        } else {
            format!("/services?q={q}&page={to}")
        }
    };
    let first = (page.page - 1) * page.per_page + 1;
    let last = (first + page.services.len() as u64).saturating_sub(1);
    (page.total > 0).then(|| {
        view! {
            <p class="pager" id="services-pager">
                {format!("Services {first}–{last} of {}", page.total)}
                {(page.page > 1).then(|| view! { " " <a rel="prev" href=link(page.page - 1)>"← Previous"</a> })}
                {(page.page < page.pages()).then(|| view! { " " <a rel="next" href=link(page.page + 1)>"Next →"</a> })}
            </p>
        }
    })
}

#[component]
fn Problems(problems: Vec<String>) -> impl IntoView {
    (!problems.is_empty()).then(|| {
        view! {
            <div class="problems">
                <strong>"Some services could not be loaded:"</strong>
                <ul>{problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
            </div>
        }
    })
}

#[component]
fn ServiceTable(list: Vec<model::views::ServiceSummary>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="empty">"No services yet."</p> }.into_any();
    }
    view! {
        <table class="list" id="services">
            <thead><tr>
                <th>"Name"</th><th>"Project"</th><th>"Type"</th><th>"Trigger events"</th>
                <th>"Tags"</th><th>"Active"</th><th>"Last run"</th>
            </tr></thead>
            <tbody>
                {list.into_iter().map(|s| view! {
                    <tr>
                        <td><a href=format!("/services/{}", s.name)>{s.name.clone()}</a>
                            <div class="muted">{s.description.clone()}</div></td>
                        <td>{s.project.clone()}</td>
                        <td><code>{s.kind.clone()}</code></td>
                        <td>{s.trigger_events.iter().map(|t| view! { <code class="chip">{t.clone()}</code> }).collect_view()}</td>
                        <td>{s.tags.iter().map(|t| view! { <span class="chip">{t.clone()}</span> }).collect_view()}</td>
                        <td>{if s.active { "yes" } else { "no" }}</td>
                        <td>{s.last_run.map(|run| view! {
                            <a href=format!("/executions/{}", run.id)><StatusBadge status=run.status/></a>
                            " " <span class="muted">{short_time(&run.created_at)}</span>
                        })}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
