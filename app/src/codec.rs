//! How a page's data travels from the server's render to the browser's hydration.
//!
//! Leptos's default resource codec decodes with `serde_json::from_str`, while server functions decode their
//! results with `serde_json::from_slice`: two readers, so every page type's deserializer was compiled into
//! the browser bundle twice. [`Json`] writes the same JSON and reads it with `from_slice`, so resources share
//! the server functions' code. [`page_data`] is `Resource::new` with it.

use std::future::Future;

use codee::{Decoder, Encoder};
use leptos::prelude::*;
use serde::{de::DeserializeOwned, Serialize};

/// JSON, read as bytes (see the module overview).
pub struct Json;

impl<T: Serialize> Encoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, Self::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(encoded: &str) -> Result<T, Self::Error> {
        serde_json::from_slice(encoded.as_bytes())
    }
}

/// A page's data, loaded on the server and handed to the browser: `Resource::new` with [`Json`].
pub type PageData<T> = Resource<T, Json>;

/// Loads `fetcher(source())`, again whenever `source` changes (as `Resource::new` does).
#[track_caller]
pub fn page_data<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> PageData<T>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}
