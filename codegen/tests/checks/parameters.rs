//! Round trips of every parameter style the fixture declares: the generated client
//! writes the values, the generated router (on a loopback port) reads them, and the
//! handler answers what it parsed; the values hold the delimiters of every style
//! (`,` `.` `;` `=` `|` `&` `%` `+` `[` `]`), spaces and non-ASCII. (Compiled into the
//! `fixture-parameters` crate by `crates.rs`, not part of the generator's tests.)

use std::sync::Arc;

use fixture_parameters::client::Client;
use fixture_parameters::models::{Color, Point};
use fixture_parameters::operations::*;
use fixture_parameters::server::{ApiError, ParamsApi, RequestContext, router};

struct Echo;

impl ParamsApi for Echo {
    async fn path_arrays(&self, _: RequestContext, s: Vec<String>, sx: Vec<String>, l: Vec<String>, lx: Vec<String>, m: Vec<String>, mx: Vec<i64>) -> Result<PathArraysResponse, ApiError> {
        Ok(PathArraysResponse::Ok(format!("{:?}", (s, sx, l, lx, m, mx))))
    }
    async fn path_objects(&self, _: RequestContext, s: Color, sx: Color, l: Color, lx: Color, m: Color, mx: Color) -> Result<PathObjectsResponse, ApiError> {
        Ok(PathObjectsResponse::Ok(format!("{:?}", (s, sx, l, lx, m, mx))))
    }
    async fn scalars_headers_cookies(&self, _: RequestContext, s: String, l: String, m: i64, headers: ScalarsHeadersCookiesHeaders) -> Result<ScalarsHeadersCookiesResponse, ApiError> {
        Ok(ScalarsHeadersCookiesResponse::Ok(format!("{:?}", (s, l, m, headers))))
    }
    async fn query(&self, _: RequestContext, query: QueryQuery) -> Result<QueryResponse, ApiError> {
        Ok(QueryResponse::Ok(format!("{query:?}")))
    }
}

async fn client() -> Client {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(Arc::new(Echo))).await });
    Client::new(format!("http://{address}"))
}

fn words(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn color(r: &str, g: &str) -> Color {
    Color { r: Some(r.to_owned()), g: Some(g.to_owned()) }
}

/// Values holding every delimiter (no spaces: spaceDelimited cannot carry them).
const TRICKY: &[&str] = &["open", "in,progress", "a.b", ".", "..", "x;y=z", "p|q", "&", "%25", "1+1", "[k]", "ü日本", "", "#?/"];

fn echo<T>(result: Result<T, fixture_parameters::client::ClientError>) -> String
where
    T: std::fmt::Debug,
{
    let text = format!("{:?}", result.expect("the call succeeds"));
    // `Ok("...")` around the handler's debug text, itself debug-escaped.
    let inner = text.strip_prefix("Ok(").unwrap().strip_suffix(')').unwrap();
    serde_json::from_str(inner).unwrap()
}

#[tokio::test]
async fn path_arrays_round_trip_in_every_style() {
    let client = client().await;
    let numbers: Vec<i64> = [1, -2, 30].into();
    let w = words(&TRICKY[..TRICKY.len() - 2]);
    for items in [w, words(&["one"]), words(&["a", "b c"])] {
        let got = echo(client.path_arrays(&items, &items, &items, &items, &items, &numbers).await);
        assert_eq!(got, format!("{:?}", (&items, &items, &items, &items, &items, &numbers)));
    }
}

#[tokio::test]
async fn path_objects_round_trip_in_every_style() {
    let client = client().await;
    for c in [color("1", "2"), color("in,progress", "x;y=z.w"), color("ü", "%|&")] {
        let got = echo(client.path_objects(&c, &c, &c, &c, &c, &c).await);
        assert_eq!(got, format!("{:?}", (&c, &c, &c, &c, &c, &c)));
    }
}

#[tokio::test]
async fn scalars_headers_and_cookies_round_trip() {
    let client = client().await;
    let headers = ScalarsHeadersCookiesHeaders {
        x_word: Some("plain header value".into()),
        x_words: Some(words(&["a,b", "c=d", "100%", "ü"])),
        x_color: Some(color("in,progress", "=")),
        x_color_x: Some(color("1", "a=b,c")),
        word: Some("semi;colon and space".into()),
        words: Some(words(&["a,b", "c"])),
        words_x: Some(words(&["x", "y;z"])),
        color: Some(color("r,1", "g")),
    };
    for s in ["a.b", "x;y", "a,b", "ü", "%", "..."] {
        let got = echo(client.scalars_headers_cookies(s, s, &42, &headers).await);
        assert_eq!(got, format!("{:?}", (s, s, 42i64, &headers)));
    }
    let empty = ScalarsHeadersCookiesHeaders::default();
    let got = echo(client.scalars_headers_cookies("s", "e", &-1, &empty).await);
    assert_eq!(got, format!("{:?}", ("s", "e", -1i64, &empty)));
    // An empty simple value is an empty segment; an empty label value is `.`: refused.
    assert!(client.scalars_headers_cookies("", "e", &1, &empty).await.is_err());
    assert!(client.scalars_headers_cookies("s", "", &1, &empty).await.is_err());
}

#[tokio::test]
async fn query_parameters_round_trip_in_every_style() {
    let client = client().await;
    let query = QueryQuery {
        status: Some(words(&["open", "in,progress"])),
        status_csv: Some(words(TRICKY)),
        counts: Some(vec![3, 1, 2]),
        spaced: Some(words(&["a,b", "c|d", "ü"])),
        piped: Some(words(&["a|b", "c,d", "e f"])),
        piped_x: Some(words(&["a|b", "c"])),
        spaced_color: Some(color("1", "2,3")),
        piped_color: Some(color("a|b", "c d")),
        color: Some(color("in,progress", "&=")),
        point: Some(Point { x: Some(7.into()), y: Some("a b&c".into()) }),
        deep: Some(color("[x]", "y]")),
        word: Some("a,b c+d".into()),
        filters: vec![("eventType".into(), "A,B".into()), ("deep".into(), "not the object".into())],
    };
    let got = echo(client.query(&query).await);
    let mut expected = query.clone();
    // `deep=...` is the deepObject's own name: claimed by it (absent as a property), not a filter.
    expected.filters.retain(|(k, _)| k != "deep");
    assert_eq!(got, format!("{expected:?}"));

    // The example on the wire: exploded form repeats the name, commas encoded.
    let spec = &QueryQuery::PARAMS[0];
    let mut text = String::new();
    fixture_parameters::params::write_query(&mut text, spec, &words(&["open", "in,progress"])).unwrap();
    assert_eq!(text, "status=open&status=in%2Cprogress");
}

#[tokio::test]
async fn values_a_style_cannot_carry_are_refused() {
    let client = client().await;
    let query = QueryQuery { spaced: Some(words(&["a b"])), ..Default::default() };
    assert!(client.query(&query).await.is_err());
    let (a, none, one): (Vec<String>, Vec<String>, Vec<i64>) = (words(&["a"]), vec![], [1].into());
    // An empty label array is the segment `.`: refused, not sent to another resource.
    assert!(client.path_arrays(&a, &a, &none, &a, &a, &one).await.is_err());
}
