//! # frontend
//!
//! The browser entry point: `hydrate()` attaches the reactive app to the HTML the server rendered. Nothing
//! else lives here; the UI is in the `app` crate.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // A marker for end-to-end tests (and the curious): the page is live from here on.
    let _ = js_sys::Reflect::set(&leptos::prelude::window(), &"__k8x_hydrated".into(), &true.into());
}
