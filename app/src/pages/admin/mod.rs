//! The admin pages: users, API tokens, event sources, platform secrets and configs, the audit trail, dead letters. The server functions behind them
//! refuse anyone but admins; these pages only lay them out.

pub mod audit;
pub mod dead_letters;
pub mod sources;
pub mod tokens;
pub mod users;
pub mod values;

use leptos::prelude::*;

/// What an action answered: its error, or the value it returns once (a token, a secret, a password).
#[component]
fn Outcome<T, V>(value: V, shown: fn(T) -> AnyView) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    V: Get<Value = Option<Result<T, ServerFnError>>> + Send + Sync + 'static,
{
    move || match value.get() {
        Some(Err(err)) => Some(view! { <p class="error" id="action-error">{err.to_string()}</p> }.into_any()),
        Some(Ok(value)) => Some(shown(value)),
        None => None,
    }
}

/// A value shown once, to copy now.
fn once(label: &'static str, value: String) -> AnyView {
    view! {
        <p class="once">{label} " (shown once, copy it now): " <code id="shown-once">{value}</code></p>
    }
    .into_any()
}

/// Nothing to show but that it worked (errors still are).
fn done(_: ()) -> AnyView {
    ().into_any()
}
