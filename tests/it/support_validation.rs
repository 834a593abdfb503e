//! The generated support types validate what they parse: `DateTime` (`format:
//! date-time`) names a real instant, `Uri` (`format: uri`) is an absolute RFC 3986 URI.
//! Both keep the text exactly as written.

use std::fmt::Debug;

use tmf688_api::support::{DateTime, Uri};

/// Every `(text, accepted)` case: parsed and kept as written, or refused.
fn check<T: Debug, E: Debug>(
    cases: &[(&str, bool)],
    parse: fn(&str) -> Result<T, E>,
    as_str: fn(&T) -> &str,
) {
    let mut failures = Vec::new();
    for (text, accepted) in cases {
        match (parse(text), accepted) {
            (Ok(parsed), true) if as_str(&parsed) == *text => {}
            (Err(_), false) => {}
            (outcome, _) => failures.push(format!("{text:?}: {outcome:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn date_times_must_be_real_instants() {
    // (text, accepted)
    let cases: &[(&str, bool)] = &[
        // RFC 3339 with an offset, and the TMF guide's offset-less form.
        ("2019-11-02T14:20:54Z", true),
        ("2019-11-02T14:20:54", true),
        ("2019-11-02T14:20:54z", true),
        ("2019-11-02t14:20:54Z", true),
        ("2019-11-02 14:20:54Z", true),
        ("2015-11-16T16:42:25-04:00", true),
        ("2015-11-16T16:42:25+0530", true),
        ("2015-11-16T16:42:25-00:00", true),
        ("2019-11-02T14:20", true),
        ("2019-11-02T14:20Z", true),
        // Fractions: any number of digits, at least one.
        ("2024-05-01T10:00:02.5Z", true),
        ("2024-05-01T10:00:02.123456789+01:00", true),
        ("2024-05-01T10:00:02.Z", false),
        // Month and day ranges, leap years.
        ("2024-02-29T00:00:00Z", true),
        ("2023-02-29T00:00:00Z", false),
        ("2000-02-29T00:00:00Z", true),
        ("1900-02-29T00:00:00Z", false),
        ("2024-02-30T12:00:00Z", false),
        ("2024-04-30T12:00:00Z", true),
        ("2024-04-31T12:00:00Z", false),
        ("2024-12-31T12:00:00Z", true),
        ("2024-12-32T12:00:00Z", false),
        ("2024-00-10T12:00:00Z", false),
        ("2024-13-10T12:00:00Z", false),
        ("2024-05-00T12:00:00Z", false),
        ("0000-01-01T00:00:00Z", true),
        ("9999-12-31T23:59:59Z", true),
        // Time ranges: no hour 24, no minute 60.
        ("2024-05-01T23:59:59Z", true),
        ("2024-05-01T24:00:00Z", false),
        ("2024-05-01T12:60:00Z", false),
        ("2024-05-01T12:00:61Z", false),
        ("2024-05-01T12:00:99Z", false),
        // Leap seconds: only at 23:59 UTC.
        ("2016-12-31T23:59:60Z", true),
        ("2016-12-31T15:59:60-08:00", true),
        ("2017-01-01T05:29:60+05:30", true),
        ("2016-12-31T23:59:60", true),
        ("2016-12-31T12:59:60Z", false),
        ("2016-12-31T23:58:60Z", false),
        ("2016-12-31T23:59:60+01:00", false),
        // Offsets.
        ("2024-05-01T12:00:00+23:59", true),
        ("2024-05-01T12:00:00+24:00", false),
        ("2024-05-01T12:00:00+05:60", false),
        ("2024-05-01T12:00:00+5:00", false),
        ("2024-05-01T12:00:00+05:0", false),
        // Shapes.
        ("", false),
        ("yesterday", false),
        ("2024-05-01", false),
        ("2024-05-01T", false),
        ("2024-5-01T12:00:00Z", false),
        ("2024-05-01T12:00:00ZZ", false),
        ("2024-05-01T12:00:00 Z", false),
        ("+2024-05-01T12:00:00Z", false),
        ("2024-05-01T1a:00:00Z", false),
        ("２０２４-05-01T12:00:00Z", false),
    ];
    check(cases, DateTime::parse, DateTime::as_str);
}

#[test]
fn uris_must_be_absolute_rfc_3986() {
    // (text, accepted)
    let cases: &[(&str, bool)] = &[
        // What the TMF guide and PSI peers send.
        ("http://www.tmforum.org/aListener", true),
        ("http://xx/Event.schema.json", true),
        ("http://../registry/Alarm.schema.json", true),
        ("http://schemaregistry/Topic.schema.json", true),
        (
            "https://peer.example:8443/psi-api/event/v2/topic/alarm/event",
            true,
        ),
        ("http://127.0.0.1:9/cb", true),
        ("http://[::1]:8080/cb", true),
        ("http://[v1.fe80::a+en1]/cb", true),
        ("http://user:pa%20ss@host/p?q=1&r=a,b#frag/x?y", true),
        ("https://host/%E6%97%A5%e6%9c%ac", true),
        ("https://host:/empty-port", true),
        ("urn:example:animal:ferret:nose", true),
        ("mailto:ops@example.com", true),
        ("file:///etc/hosts", true),
        ("tag:example.com,2024:x", true),
        ("a+b-c.d:x", true),
        // Not absolute.
        ("", false),
        ("/tmf-api/event/v4/hub", false),
        ("../Event.schema.json", false),
        ("Event.schema.json", false),
        ("//host/path", false),
        (":no-scheme", false),
        ("1http://host/", false),
        ("ht_tp://host/", false),
        // Characters RFC 3986 does not allow unencoded.
        ("http://host/a b", false),
        ("http://host/a\u{0}b", false),
        ("http://host/a\nb", false),
        ("http://host/a\u{7f}", false),
        ("http://host/\"x\"", false),
        ("http://host/<x>", false),
        ("http://host/a\\b", false),
        ("http://host/a^b", false),
        ("http://host/a`b", false),
        ("http://host/{x}", false),
        ("http://host/a|b", false),
        ("http://host/日本", false),
        ("http://bücher.example/", false),
        ("http://host/a#b#c", false),
        ("http://host/a%2", false),
        ("http://host/a%zz", false),
        ("http://host/a%", false),
        // Authority.
        ("https://host:port/x", false),
        ("http://host:80:80/", false),
        ("http://[::1/cb", false),
        ("http://[]/cb", false),
        ("http://[::1]x/cb", false),
        ("http://ho[st/", false),
        ("http://a@b@c/", false),
    ];
    check(cases, Uri::parse, Uri::as_str);
}

/// In a model they are checked as the JSON is read, and written back unchanged.
#[test]
fn models_check_them_when_parsed_and_keep_them_as_written() {
    use tmf688_api::models::{EventCreate, HubCreate};
    let event: EventCreate = serde_json::from_value(serde_json::json!({
        "@type": "Event", "eventId": "e1", "event": {},
        "eventTime": "2019-11-02T14:20:54",
        "@schemaLocation": "http://xx/Event.schema.json"
    }))
    .unwrap();
    let back = serde_json::to_value(&event).unwrap();
    assert_eq!(back["eventTime"], "2019-11-02T14:20:54");
    assert_eq!(back["@schemaLocation"], "http://xx/Event.schema.json");
    for (attribute, value) in [
        ("eventTime", "2024-02-30T12:00:00Z"),
        ("@schemaLocation", "Event.schema.json"),
    ] {
        let mut body = serde_json::json!({"@type": "Event", "eventId": "e1", "event": {}});
        body[attribute] = serde_json::json!(value);
        let error = serde_json::from_value::<EventCreate>(body).unwrap_err();
        assert!(error.to_string().contains(value), "{attribute}: {error}");
    }
    let error =
        serde_json::from_value::<HubCreate>(serde_json::json!({"callback": "http://h/a b"}))
            .unwrap_err();
    assert!(error.to_string().contains("invalid URI"), "{error}");
}
