//! Round trips of every parameter style the fixture declares: the generated client
//! writes the values, the generated router (on a loopback port) reads them, and the
//! handler answers what it parsed; the values hold the delimiters of every style
//! (`,` `.` `;` `=` `|` `&` `%` `+` `[` `]`), spaces and non-ASCII; and the values a
//! style's syntax would lose unless both sides agree: empty matrix lists, and header
//! list elements that are empty or have spaces at their edges. (Compiled into the
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
    async fn empty_and_edges(&self, _: RequestContext, mx: Vec<String>, m: Vec<String>, headers: EmptyAndEdgesHeaders) -> Result<EmptyAndEdgesResponse, ApiError> {
        Ok(EmptyAndEdgesResponse::Ok(format!("{:?}", (mx, m, headers))))
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

    // The issue's example on the wire: exploded form repeats the name, commas encoded.
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

fn handler_lists() -> Vec<(Vec<String>, Vec<String>)> {
    // (mx: matrix exploded, m: matrix) — empty lists and empty elements.
    [
        (&[][..], &[][..]),
        (&[""][..], &[""][..]),
        (&["", ""][..], &["", "a"][..]),
        (&[" x ", ""][..], &["a", ""][..]),
        (&["one"][..], &["one"][..]),
    ]
    .iter()
    .map(|(mx, m)| (words(mx), words(m)))
    .collect()
}

#[tokio::test]
async fn empty_matrix_lists_round_trip() {
    let client = client().await;
    let headers = EmptyAndEdgesHeaders::default();
    for (mx, m) in handler_lists() {
        let got = echo(client.empty_and_edges(&mx, &m, &headers).await);
        assert_eq!(got, format!("{:?}", (&mx, &m, &headers)), "mx {mx:?}, m {m:?}");
    }
    // `[]` is `;mx` (RFC 6570 writes nothing, which cannot be a path segment), `[""]` is `;mx=`.
    let spec = fixture_parameters::params::ParamSpec {
        name: "mx",
        style: fixture_parameters::params::Style::Matrix,
        explode: true,
        shape: fixture_parameters::params::Shape::Array,
    };
    let write = |v: &[&str]| fixture_parameters::params::write_path(&spec, &words(v)).unwrap();
    assert_eq!((write(&[]), write(&[""])), (";mx".to_owned(), ";mx=".to_owned()));
}

#[tokio::test]
async fn header_lists_keep_edge_spaces_and_refuse_empty_elements() {
    let client = client().await;
    let one = words(&["a"]);
    // (X-List, X-Pairs) that must read back as sent.
    let sent: &[(&[&str], (&str, &str))] = &[
        (&[" lead", "trail "], ("  r", "g\t")),
        (&["a b", "\tt\t", " "], (" ", "")),
        (&["a,b", " , ", "%20"], ("=", ",")),
        (&["ü", "x=y"], ("", "")),
        (&[], ("1", "2")),
    ];
    for &(list, (r, g)) in sent {
        let headers = EmptyAndEdgesHeaders { x_list: Some(words(list)), x_pairs: Some(color(r, g)) };
        let got = echo(client.empty_and_edges(&one, &one, &headers).await);
        assert_eq!(got, format!("{:?}", (&one, &one, &headers)), "X-List {list:?}, X-Pairs {r:?} {g:?}");
    }
    // An empty element has no form an HTTP list keeps: refused, not sent shorter.
    for list in [&["a", "", "b"][..], &[""][..]] {
        let headers = EmptyAndEdgesHeaders { x_list: Some(words(list)), x_pairs: None };
        let error = client.empty_and_edges(&one, &one, &headers).await.expect_err("refused");
        assert!(format!("{error:?}").contains("empty element"), "{list:?}: {error:?}");
    }
}

#[tokio::test]
async fn integers_are_read_as_decimal_text_not_only_as_json() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(Arc::new(Echo))).await });
    // (query string, integers the handler sees in `counts`); `word` (a string) keeps its text.
    let cases: &[(&str, &[i64])] = &[
        ("counts=05&counts=%2B5&counts=-0&counts=-007", &[5, 5, 0, -7]),
        ("counts=0&counts=10", &[0, 10]),
    ];
    let http = reqwest::Client::new();
    for &(query, counts) in cases {
        let response = http.get(format!("http://{address}/query?{query}&word=05")).send().await.unwrap();
        assert_eq!(response.status(), 200, "{query}");
        let text: String = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        assert!(text.contains(&format!("counts: Some({counts:?})")), "{query}: {text}");
        assert!(text.contains("word: Some(\"05\")"), "{query}: {text}");
    }
    for bad in ["counts=5x", "counts=%2B", "counts=--5"] {
        let response = http.get(format!("http://{address}/query?{bad}")).send().await.unwrap();
        assert_eq!(response.status(), 400, "{bad}");
    }
    // A scalar (matrix path parameter `m`, an integer): the same reading.
    for (m, expected) in [("05", 5i64), ("%2B5", 5), ("-0", 0)] {
        let response = http.get(format!("http://{address}/scalars/s/.l/;m={m}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "m={m}");
        let text: String = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        assert!(text.starts_with(&format!("(\"s\", \"l\", {expected}, ")), "m={m}: {text}");
    }
}
