//! `/admin/values`: the secrets and configs every service gets (the platform scope); a project's or a
//! service's own beat these.

use leptos::prelude::*;

use crate::components::values::ScopedValues;

#[component]
pub fn ValuesPage() -> impl IntoView {
    view! {
        <h1>"Platform secrets and configs"</h1>
        <ScopedValues scope="platform" owner=String::new()/>
    }
}
