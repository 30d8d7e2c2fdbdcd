use super::*;

#[test]
fn size_literals() {
    assert!(__size_literal_ok("\"500kb\""));
    assert!(__size_literal_ok("\"1.5MB\""));
    assert!(__size_literal_ok("\"10b\""));
    assert!(__size_literal_ok("\"10 kb\""));
    assert!(__size_literal_ok("5"));
    assert!(!__size_literal_ok("\"abc\""));
    assert!(!__size_literal_ok("\"1.5b\""));
    assert!(!__size_literal_ok("\"10potatoes\""));
    assert!(!__size_literal_ok("true"));
    assert_eq!(
        SizeLimit::__from_literal("\"1kb\""),
        SizeLimit::Text("1kb".into())
    );
    assert_eq!(SizeLimit::__from_literal("5"), SizeLimit::Bytes(5));
    assert_eq!(__int_literal("1_000"), Some(1000));
    assert_eq!(__int_literal("10u32"), None);
    assert_eq!(__int_literal("-1"), None);
}

mod declared {
    crate::config! {
        max_duration: 10,
        memory: 512,
        body_parser: { size_limit: "500kb" },
        response_limit: "8mb",
        external_resolver: true,
    }
}

mod disabled {
    crate::config! { body_parser: false, response_limit: false }
}

mod empty {
    crate::config! {}
}

mod app_static {
    crate::config! { dynamic: "force-static", revalidate: false, max_duration: 5 }
}

mod app_revalidate {
    crate::config! { revalidate: 60, dynamic: "auto" }
}

#[test]
fn macro_reads_app_router_keys() {
    let c = app_static::config();
    assert_eq!(c.dynamic, Some(Dynamic::ForceStatic));
    assert_eq!(c.revalidate, Some(Revalidate::Never(Disabled)));
    assert!(c.prerenders());
    assert_eq!(
        serde_json::to_string(&c).unwrap(),
        r#"{"max_duration":5,"dynamic":"force-static","revalidate":false}"#
    );
    let c = app_revalidate::config();
    assert_eq!(
        (c.dynamic, c.revalidate),
        (Some(Dynamic::Auto), Some(Revalidate::Seconds(60)))
    );
    assert!(c.prerenders());
    assert_eq!(__dynamic_literal("\"sometimes\""), None);
    assert_eq!(__dynamic_literal("error"), None);
    assert!(!__revalidate_literal_ok("true"));
    assert!(!__revalidate_literal_ok("4294967296"));
    assert!(__revalidate_literal_ok("0"));
}

#[test]
fn prerendering_follows_next() {
    let with = |dynamic, revalidate| RouteConfig {
        dynamic,
        revalidate,
        ..RouteConfig::default()
    };
    assert!(!with(None, None).prerenders());
    assert!(!with(Some(Dynamic::ForceDynamic), None).prerenders());
    assert!(!with(Some(Dynamic::Auto), Some(Revalidate::Seconds(0))).prerenders());
    assert!(with(Some(Dynamic::Error), None).prerenders());
    assert!(with(None, Some(Revalidate::Seconds(1))).prerenders());
    for d in Dynamic::ALL {
        assert_eq!(Dynamic::parse(d.as_str()), Some(d));
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            format!("\"{}\"", d.as_str())
        );
    }
}

#[test]
fn macro_builds_the_config() {
    let c = declared::config();
    assert_eq!(
        serde_json::to_string(&c).unwrap(),
        r#"{"max_duration":10,"memory":512,"body_parser":{"size_limit":"500kb"},"response_limit":"8mb","external_resolver":true}"#
    );
    let c = disabled::config();
    assert_eq!(c.body_parser, BodyParser::Disabled(Disabled));
    assert_eq!(c.response_limit.bytes(), None);
    assert_eq!(empty::config(), RouteConfig::default());
}

#[test]
fn bytes_like_next() {
    assert_eq!(parse_bytes("1mb"), Some(1_048_576));
    assert_eq!(parse_bytes("1.5kb"), Some(1536));
    assert_eq!(parse_bytes("500KB"), Some(512_000));
    assert_eq!(parse_bytes("10b"), Some(10));
    assert_eq!(parse_bytes("500"), Some(500));
    assert_eq!(parse_bytes("abc"), None);
}

#[test]
fn config_round_trips_as_declared() {
    let c: RouteConfig = serde_json::from_str(
        r#"{"max_duration":10,"body_parser":{"size_limit":"500kb"},"response_limit":false}"#,
    )
    .unwrap();
    assert_eq!(c.max_duration, Some(10));
    assert_eq!(
        serde_json::to_string(&c).unwrap(),
        r#"{"max_duration":10,"body_parser":{"size_limit":"500kb"},"response_limit":false}"#
    );
    let c: RouteConfig = serde_json::from_str(r#"{"body_parser":false}"#).unwrap();
    assert_eq!(c.body_parser, BodyParser::Disabled(Disabled));
    assert_eq!(
        serde_json::to_string(&RouteConfig::default()).unwrap(),
        "{}"
    );
    assert!(serde_json::from_str::<RouteConfig>(r#"{"maxDuration":1}"#).is_err());
}
