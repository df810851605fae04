//! `/login`: a plain form posted to `/auth/login` (works without JavaScript). After sign-in the browser goes
//! back to the page it came from (`next`, local paths only).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let error = move || {
        let query = query.read();
        match query.get("error").as_deref() {
            Some("wrong") => Some("Wrong name or password.".to_owned()),
            Some("wait") => Some(format!(
                "Too many failed sign-ins. Try again in {} s.",
                query.get("wait").and_then(|s| s.parse::<u64>().ok()).unwrap_or(1)
            )),
            _ => None,
        }
    };
    let next = move || query.read().get("next").unwrap_or_else(|| "/services".into());
    view! {
        <div class="login">
            <h1>"Sign in to k8x"</h1>
            {move || error().map(|e| view! { <p class="error" id="login-error">{e}</p> })}
            <form method="post" action="/auth/login" class="login-form">
                <input type="hidden" name="next" value=next/>
                <div class="field">
                    <label for="name">"Name"</label>
                    <input type="text" id="name" name="name" autocomplete="username" required autofocus/>
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input type="password" id="password" name="password" autocomplete="current-password" required/>
                </div>
                <button type="submit" id="sign-in">"Sign in"</button>
            </form>
            <p class="muted">
                "On the first start k8x made the user " <code>"admin"</code> " and wrote its password to "
                <code>"admin-password"</code> " in its data directory."
            </p>
        </div>
    }
}
