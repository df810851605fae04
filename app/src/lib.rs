//! # app
//!
//! k8x's web UI. Compiled twice: with `ssr` into the server, which renders every page to HTML (so pages work
//! before, or without, WebAssembly), and with `hydrate` into the browser, which makes them live.
//!
//! ## Layout
//! - [`api`]: `#[server]` functions — thin: take the backend state from context, call a `backend::views`
//!   query, map the error.
//! - `pages/`: one file per route (`/login`, `/services`, `/services/{name}`, `/projects`, `/projects/{name}`,
//!   `/executions`, `/executions/{id}`, and the admin pages under `/admin/`).
//! - `codec`: how page data travels from the server render to hydration.
//! - `components/`: the manual-run form renderer, the live log viewer, status badges, the signed-in user.
//!
//! Every page is sent with a Content-Security-Policy: scripts only with this response's nonce (Leptos puts
//! it on its own scripts) and WebAssembly, nothing from other origins, no framing.

pub mod api;
mod codec;
mod components;
mod pages;

use components::session::{Me, SignedIn};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="data:,"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The root component: navigation and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "ssr")]
    content_security_policy();
    Me::provide();
    view! {
        <Stylesheet id="k8x" href="/pkg/k8x.css"/>
        <Title text="k8x"/>
        <Router>
            <header class="top">
                <a class="brand" href="/services">"k8x"</a>
                <nav>
                    <a href="/services">"Services"</a>
                    <a href="/executions">"Executions"</a>
                    <a href="/projects">"Projects"</a>
                </nav>
                <SignedIn/>
            </header>
            <main>
                <Routes fallback=|| view! { <p class="empty">"There is no such page."</p> }>
                    // Async: the server waits for the page's data and sends it whole, so every page reads (and
                    // every form works) with no script at all, not only before the WebAssembly arrives.
                    <Route path=path!("/login") view=pages::login::LoginPage/>
                    <Route path=path!("/") view=pages::services::ServicesPage ssr=SsrMode::Async/>
                    <Route path=path!("/services") view=pages::services::ServicesPage ssr=SsrMode::Async/>
                    <Route path=path!("/services/:name") view=pages::service::ServicePage ssr=SsrMode::Async/>
                    <Route path=path!("/projects") view=pages::projects::ProjectsPage ssr=SsrMode::Async/>
                    <Route path=path!("/projects/:name") view=pages::project::ProjectPage ssr=SsrMode::Async/>
                    <Route path=path!("/executions") view=pages::executions::ExecutionsPage ssr=SsrMode::Async/>
                    <Route path=path!("/executions/:id") view=pages::execution::ExecutionPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users") view=pages::admin::users::UsersPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/tokens") view=pages::admin::tokens::TokensPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/sources") view=pages::admin::sources::SourcesPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/values") view=pages::admin::values::ValuesPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/audit") view=pages::admin::audit::AuditPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/dead-letters") view=pages::admin::dead_letters::DeadLettersPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// The page's Content-Security-Policy, with the nonce Leptos put on this response's scripts.
#[cfg(feature = "ssr")]
fn content_security_policy() {
    let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    );
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}
