//! The signed-in user: loaded once per page by the app, shared through context, shown in the header with a
//! sign-out button, and asked by pages which buttons to offer (the server checks every action again).

use leptos::prelude::*;
use model::access::CurrentUser;

use crate::api::WhoAmI;
use crate::codec::{page_data, PageData};

/// The current user, loading.
#[derive(Clone, Copy)]
pub struct Me(pub PageData<Option<CurrentUser>>);

impl Me {
    /// Loads the signed-in user and makes it available to every page.
    pub fn provide() {
        provide_context(Me(page_data(|| WhoAmI {}, || 0)));
    }

    /// The signed-in user, once loaded (None when nobody is, or on error).
    pub async fn get() -> Option<CurrentUser> {
        let me = use_context::<Me>()?;
        me.0.await.ok().flatten()
    }
}

/// "Signed in as …", the admin links and the sign-out button.
#[component]
pub fn SignedIn() -> impl IntoView {
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                Me::get().await.map(|user| view! {
                    {user.is_admin.then(|| view! {
                        <nav class="admin">
                            <a href="/admin/users">"Users"</a>
                            <a href="/admin/tokens">"Tokens"</a>
                            <a href="/admin/sources">"Sources"</a>
                            <a href="/admin/values">"Secrets"</a>
                            <a href="/admin/audit">"Audit"</a>
                            <a href="/admin/dead-letters">"Dead letters"</a>
                        </nav>
                    })}
                    <span class="whoami" id="whoami">
                        "Signed in as " <strong>{user.name.clone()}</strong> " (" {user.role.clone()} ")"
                    </span>
                    <form method="post" action="/auth/logout" class="logout">
                        <button type="submit" id="sign-out">"Sign out"</button>
                    </form>
                })
            })}
        </Suspense>
    }
}
