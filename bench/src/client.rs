//! A lean HTTP/1.1 client for one URL, so that the load generator spends as little of the machine as it can
//! (on 2 cores it shares them with the server it measures): one hyper connection per worker, headers built
//! once, nothing per request but the event's id and body.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// One worker's connection.
pub type Connection = SendRequest<Full<Bytes>>;

/// What each request is.
#[derive(Clone, Debug)]
pub enum Kind {
    /// A unique binary-mode CloudEvent of this type, POSTed.
    Event(HeaderValue),
    /// A GET.
    Get,
}

/// The URL, its credentials and the kind of request sent to it.
#[derive(Clone, Debug)]
pub struct Target {
    uri: Uri,
    address: String,
    host: HeaderValue,
    authorization: Option<HeaderValue>,
    kind: Kind,
    /// Event ids start with this, unique to the run, so that every event is new to the server.
    run: String,
}

impl Target {
    /// `url` (`http://host:port/path`), with `token` as a bearer token if given.
    pub fn new(url: &str, token: Option<&str>, kind: Kind) -> anyhow::Result<Self> {
        let uri: Uri = url.parse().with_context(|| format!("not a URL: {url}"))?;
        anyhow::ensure!(uri.scheme_str() == Some("http"), "only http:// URLs: {url}");
        let authority = uri.authority().context("the URL has no host")?;
        let address = format!("{}:{}", authority.host(), authority.port_u16().unwrap_or(80));
        let host = HeaderValue::from_str(authority.as_str())?;
        let authorization = token.map(|token| HeaderValue::from_str(&format!("Bearer {token}"))).transpose()?;
        let run = format!("{:x}", SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos());
        Ok(Self { uri, address, host, authorization, kind, run })
    }

    /// A new keep-alive connection to the target.
    pub async fn connect(&self) -> anyhow::Result<Connection> {
        let stream =
            TcpStream::connect(&self.address).await.with_context(|| format!("connecting to {}", self.address))?;
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(sender)
    }

    /// Sends request number `n` of worker `worker` and reads the whole answer; an error unless it is a 2xx.
    pub async fn send(&self, connection: &mut Connection, worker: usize, n: u64) -> Result<(), String> {
        let mut request = Request::builder().uri(self.uri.clone()).header(header::HOST, self.host.clone());
        if let Some(authorization) = &self.authorization {
            request = request.header(header::AUTHORIZATION, authorization.clone());
        }
        let request = match &self.kind {
            Kind::Event(ty) => request
                .method(Method::POST)
                .header("ce-specversion", HeaderValue::from_static("1.0"))
                .header("ce-id", format!("{}-{worker}-{n}", self.run))
                .header("ce-source", HeaderValue::from_static("/bench"))
                .header("ce-type", ty.clone())
                .header(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(Full::new(Bytes::from(format!("{{\"n\":{n}}}")))),
            Kind::Get => request.method(Method::GET).body(Full::new(Bytes::new())),
        }
        .map_err(|e| e.to_string())?;
        connection.ready().await.map_err(|e| e.to_string())?;
        let response = connection.send_request(request).await.map_err(|e| e.to_string())?;
        let status = response.status();
        response.into_body().collect().await.map_err(|e| e.to_string())?;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("HTTP {status}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::{http::HeaderMap, http::StatusCode, routing::post, Router};
    use cloudevents::AttributesReader;

    use super::*;

    #[test]
    fn only_plain_http_urls_with_a_host_are_targets() {
        for bad in ["https://example.com/x", "not a url", "/api/v1/events"] {
            assert!(Target::new(bad, None, Kind::Get).is_err(), "{bad} was taken");
        }
        let target = Target::new("http://127.0.0.1:3101/api/v1/events", Some("t0k"), Kind::Get).unwrap();
        assert_eq!(target.address, "127.0.0.1:3101");
        assert_eq!(target.authorization.unwrap(), "Bearer t0k");
    }

    /// Each request is a new binary-mode CloudEvent with the token, over one kept-alive connection; an answer
    /// other than 2xx is an error naming the status.
    #[tokio::test]
    async fn events_arrive_as_unique_cloudevents_with_the_token() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let app = Router::new().route(
            "/events",
            post(move |headers: HeaderMap, body: String| async move {
                let event = cloudevents::binding::http::to_event(&headers, body.into_bytes());
                let token = headers.get("authorization").map(|v| v.to_str().unwrap().to_owned());
                record.lock().unwrap().push((event.map(|e| e.id().to_owned()).ok(), token));
                if headers.get("ce-type").unwrap() == "bench.refused" {
                    StatusCode::CONFLICT
                } else {
                    StatusCode::ACCEPTED
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/events", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });

        let target = Target::new(&url, Some("t0k"), Kind::Event("bench.nobody".parse().unwrap())).unwrap();
        let mut connection = target.connect().await.unwrap();
        for n in 1..=3 {
            target.send(&mut connection, 7, n).await.unwrap();
        }
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 3);
        let ids: std::collections::HashSet<_> =
            seen.iter().map(|(id, _)| id.clone().expect("not a CloudEvent")).collect();
        assert_eq!(ids.len(), 3, "event ids repeat: {seen:?}");
        assert!(seen.iter().all(|(_, token)| token.as_deref() == Some("Bearer t0k")));

        let refused = Target::new(&url, None, Kind::Event("bench.refused".parse().unwrap())).unwrap();
        let mut connection = refused.connect().await.unwrap();
        assert_eq!(refused.send(&mut connection, 0, 1).await.unwrap_err(), "HTTP 409 Conflict");
    }
}
