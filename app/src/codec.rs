//! How a page's data travels from the server's render to the browser's hydration, and from the server to the
//! browser after a client-side navigation.
//!
//! Every page loads its data through one resource type, holding the data as JSON text ([`PageData`]). A
//! resource's reactive machinery (async derived signals, owners, futures) is large and generic over the
//! value, the source closure and the fetcher: typed per page, the browser bundle carried a copy of it for
//! each of the dozen pages. Kept as text, it is compiled once; a page reads its typed value from the text
//! when it awaits the data, with the same `serde_json::from_slice` the server functions use.
//!
//! On the server the fetcher runs the page's server function in place; in the browser it posts the same
//! form-encoded arguments to the server function's URL and keeps the response's text (one fetch routine for
//! every page, in place of a typed client per server function).

use std::{
    future::{Future, IntoFuture},
    marker::PhantomData,
    pin::Pin,
};

use codee::{Decoder, Encoder};
use leptos::{prelude::*, server_fn::ServerFn};
use serde::{de::DeserializeOwned, Serialize};

/// How the resource's value is written into the page for hydration: the text as it is, after a one-letter tag
/// (`O` for the data, `E` for an error as JSON). Leptos quotes it once more as a script string; JSON of the
/// JSON text would escape every quote and backslash of the data twice.
pub struct Tagged;

impl Encoder<Text> for Tagged {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &Text) -> Result<String, Self::Error> {
        Ok(match value {
            Ok(text) => format!("O{text}"),
            Err(err) => format!("E{}", serde_json::to_string(err)?),
        })
    }
}

impl Decoder<Text> for Tagged {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(encoded: &str) -> Result<Text, Self::Error> {
        match encoded.split_at_checked(1) {
            Some(("O", text)) => Ok(Ok(text.to_owned())),
            Some(("E", err)) => Ok(Err(serde_json::from_slice(err.as_bytes())?)),
            _ => Err(serde::de::Error::custom("page data without its tag")),
        }
    }
}

/// What a page asks for: its server function's URL, the arguments form-encoded, and a version that changes
/// when the page wants the data again (say, after one of its actions).
type Key = (&'static str, String, usize);

/// A page's data as its server function answered it: the JSON text of the value, or the error.
type Text = Result<String, ServerFnError>;

/// A page's data of type `T`, loading: `.await` it (inside `Suspense`), or `refetch` it.
pub struct PageData<T> {
    text: Resource<Text, Tagged>,
    value: PhantomData<fn() -> T>,
}

impl<T> Clone for PageData<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for PageData<T> {}

impl<T> PageData<T> {
    /// Loads the data again.
    pub fn refetch(&self) {
        self.text.refetch();
    }
}

impl<T: DeserializeOwned + 'static> IntoFuture for PageData<T> {
    type Output = Result<T, ServerFnError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        let text = self.text;
        Box::pin(async move {
            let text = text.await?;
            serde_json::from_slice(text.as_bytes()).map_err(|err| ServerFnError::Deserialization(err.to_string()))
        })
    }
}

/// The data of the server function `args()` calls, loaded again whenever the arguments or `version()` change
/// (as `Resource::new` does with its source).
#[track_caller]
pub fn page_data<A>(
    args: impl Fn() -> A + Send + Sync + 'static,
    version: impl Fn() -> usize + Send + Sync + 'static,
) -> PageData<A::Output>
where
    A: ServerFn<Error = ServerFnError> + Serialize + DeserializeOwned + 'static,
    A::Output: Serialize,
{
    let key: Box<dyn Fn() -> Key + Send + Sync> = Box::new(move || {
        // Arguments that do not encode cannot be sent either; the server function would refuse them the same way.
        let form = serde_qs::to_string(&args()).unwrap_or_default();
        (A::PATH, form, version())
    });
    PageData { text: Resource::new_with_options(key, fetcher::<A>(), false), value: PhantomData }
}

/// Runs the server function in place (during the server's render).
#[cfg(not(feature = "hydrate"))]
fn fetcher<A>() -> impl Fn(Key) -> Pin<Box<dyn Future<Output = Text> + Send>> + Send + Sync + 'static
where
    A: ServerFn<Error = ServerFnError> + DeserializeOwned + 'static,
    A::Output: Serialize,
{
    |(_, form, _): Key| {
        Box::pin(async move {
            let args: A = serde_qs::Config::new(5, false)
                .deserialize_str(&form)
                .map_err(|err| -> ServerFnError { ServerFnError::Args(err.to_string()) })?;
            let value = args.run_body().await?;
            serde_json::to_string(&value).map_err(|err| ServerFnError::Serialization(err.to_string()))
        })
    }
}

/// Posts to the server function's URL (in the browser): the same for every page. What server_fn's own client
/// does, except for its redirect hook: no page's server function redirects.
#[cfg(feature = "hydrate")]
fn fetcher<A>() -> fn(Key) -> Pin<Box<dyn Future<Output = Text> + Send>> {
    fn fetch((path, form, _): Key) -> Pin<Box<dyn Future<Output = Text> + Send>> {
        use leptos::server_fn::{
            client::{browser::BrowserClient, Client},
            codec::PostUrl,
            error::FromServerFnError,
            request::{browser::BrowserRequest, ClientReq},
            response::ClientRes,
            ContentType,
        };
        Box::pin(async move {
            let request = <BrowserRequest as ClientReq<ServerFnError>>::try_new_post(
                path,
                PostUrl::CONTENT_TYPE,
                "application/json",
                form,
            )?;
            let response = <BrowserClient as Client<ServerFnError>>::send(request).await?;
            if (400..=599).contains(&ClientRes::<ServerFnError>::status(&response)) {
                let body = ClientRes::<ServerFnError>::try_into_bytes(response).await?;
                return Err(ServerFnError::de(body));
            }
            ClientRes::<ServerFnError>::try_into_string(response).await
        })
    }
    fetch
}
