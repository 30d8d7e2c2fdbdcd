//! The planning of `nextr rollback`, without AWS.

use super::*;
use crate::deploy::record::RECORD_VERSION;
use crate::deploy::state::ObservedFunction;
use nextr::manifest::GatewayKind;

fn function(name: &str, page: Option<&str>, live: &str, previous: Option<&str>) -> RecordFunction {
    RecordFunction {
        name: name.into(),
        page: page.map(str::to_string),
        route_keys: Vec::new(),
        sha256: String::new(),
        code_sha256: String::new(),
        live_version: Some(live.into()),
        function_url: None,
        previous_version: previous.map(str::to_string),
        rolled_back_from: None,
    }
}

fn record() -> DeployRecord {
    DeployRecord {
        version: RECORD_VERSION,
        app: "demo".into(),
        stage: "dev".into(),
        region: "us-east-1".into(),
        deployed_at: String::new(),
        checked_at: String::new(),
        manifest_sha256: String::new(),
        nextr_version: String::new(),
        gateway: GatewayKind::Http,
        api_id: None,
        url: None,
        role_arn: None,
        functions: vec![
            function("demo-a-dev", Some("/api/a"), "3", Some("2")),
            function("demo-b-dev", Some("/api/b"), "1", None),
            function("demo-default-dev", None, "1", None),
        ],
        dns: None,
    }
}

fn observed(live: &[(&str, u64, &[u64])]) -> Observed {
    let mut o = Observed::default();
    for (name, v, versions) in live {
        o.functions.insert(
            name.to_string(),
            ObservedFunction {
                name: name.to_string(),
                live: Some(FunctionConfig {
                    version: Some(v.to_string()),
                    ..FunctionConfig::default()
                }),
                versions: versions.to_vec(),
                ..ObservedFunction::default()
            },
        );
    }
    o
}

#[test]
fn a_route_is_named_by_page_file_default_or_function() {
    let r = record();
    let files: BTreeMap<String, String> = [("api/b.rs".to_string(), "/api/b".to_string())].into();
    for (route, name) in [
        ("/api/a", "demo-a-dev"),
        ("api/b.rs", "demo-b-dev"),
        ("$default", "demo-default-dev"),
        ("demo-b-dev", "demo-b-dev"),
    ] {
        let found = select(&r, Some(route), &files).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].name, name, "{route}");
    }
    assert_eq!(select(&r, None, &files).unwrap().len(), 3);
    let err = select(&r, Some("/api/nope"), &files).unwrap_err();
    assert!(err.to_string().contains("no route `/api/nope`"), "{err}");
}

#[test]
fn one_route_moves_back_to_the_newest_kept_earlier_version() {
    let r = record();
    let a = select(&r, Some("/api/a"), &BTreeMap::new()).unwrap();
    let o = observed(&[("demo-a-dev", 3, &[1, 3])]);
    let p = plan(&a, &o, Goal::Back).unwrap();
    assert_eq!(p.steps.len(), 1);
    assert_eq!(p.steps[0].line(), "~ /api/a (demo-a-dev): live 3 → 1");
    assert!(p.warnings.iter().any(|w| w == SCOPE_NOTE));
    // Interrupted after the alias moved, before the record was written: done, not further.
    let o = observed(&[("demo-a-dev", 1, &[1, 3])]);
    let p = plan(&a, &o, Goal::Back).unwrap();
    assert!(p.is_done(), "{p:?}");
    assert_eq!(p.steps[0].line(), "= /api/a (demo-a-dev): live 1 (already)");
}

#[test]
fn no_earlier_version_is_refused_naming_keep_versions() {
    let r = record();
    let b = select(&r, Some("/api/b"), &BTreeMap::new()).unwrap();
    let err = plan(&b, &observed(&[("demo-b-dev", 1, &[1])]), Goal::Back).unwrap_err();
    let text = err.to_string();
    assert!(matches!(
        err,
        RollbackError::NoEarlierVersion { live: 1, .. }
    ));
    assert!(
        text.contains("keep_versions") && text.contains("/api/b"),
        "{text}"
    );
    // Gone from AWS: deploy first.
    let err = plan(&b, &Observed::default(), Goal::Back).unwrap_err();
    assert!(matches!(err, RollbackError::NotDeployed { .. }), "{err}");
}

#[test]
fn to_needs_a_kept_version_and_a_route() {
    let r = record();
    let a = select(&r, Some("/api/a"), &BTreeMap::new()).unwrap();
    let o = observed(&[("demo-a-dev", 3, &[1, 2, 3])]);
    assert_eq!(plan(&a, &o, Goal::To(2)).unwrap().steps[0].to, 2);
    let err = plan(&a, &o, Goal::To(9)).unwrap_err();
    assert!(
        matches!(err, RollbackError::NotKept { version: 9, .. }),
        "{err}"
    );
    let all = select(&r, None, &BTreeMap::new()).unwrap();
    assert!(matches!(
        plan(&all, &o, Goal::To(2)),
        Err(RollbackError::ToNeedsRoute)
    ));
}

#[test]
fn every_function_goes_back_to_what_the_last_deploy_replaced() {
    let r = record();
    let all = select(&r, None, &BTreeMap::new()).unwrap();
    let o = observed(&[
        ("demo-a-dev", 3, &[1, 2, 3]),
        ("demo-b-dev", 1, &[1]),
        ("demo-default-dev", 1, &[1]),
    ]);
    let p = plan(&all, &o, Goal::BeforeLastDeploy).unwrap();
    // Only the function the last deploy moved; the others serve what they served before it.
    assert_eq!(p.steps.len(), 1);
    assert_eq!((p.steps[0].from, p.steps[0].to), (Some(3), 2));
    let mut none = record();
    for f in &mut none.functions {
        f.previous_version = None;
    }
    let all = select(&none, None, &BTreeMap::new()).unwrap();
    assert!(matches!(
        plan(&all, &o, Goal::BeforeLastDeploy),
        Err(RollbackError::NothingRecorded)
    ));
}

#[test]
fn another_architecture_or_a_failed_version_is_refused_and_another_role_warned() {
    let r = record();
    let a = select(&r, Some("/api/a"), &BTreeMap::new()).unwrap();
    let o = observed(&[("demo-a-dev", 3, &[2, 3])]);
    let config = |arch: &str, role: &str, state: &str| FunctionConfig {
        architecture: arch.into(),
        role: Some(role.into()),
        state: Some(state.into()),
        ..FunctionConfig::default()
    };
    let configs = |old: FunctionConfig| -> BTreeMap<(String, u64), FunctionConfig> {
        [
            (
                ("demo-a-dev".to_string(), 3),
                config("arm64", "r1", "Active"),
            ),
            (("demo-a-dev".to_string(), 2), old),
        ]
        .into()
    };
    let mut p = plan(&a, &o, Goal::Back).unwrap();
    let err = check(
        &mut p,
        &configs(config("x86_64", "r1", "Active")),
        Goal::Back,
    )
    .unwrap_err();
    assert!(err.to_string().contains("--to 2"), "{err}");
    let mut p = plan(&a, &o, Goal::To(2)).unwrap();
    check(
        &mut p,
        &configs(config("x86_64", "r1", "Active")),
        Goal::To(2),
    )
    .unwrap();
    let mut p = plan(&a, &o, Goal::Back).unwrap();
    let err = check(
        &mut p,
        &configs(config("arm64", "r1", "Failed")),
        Goal::Back,
    )
    .unwrap_err();
    assert!(matches!(err, RollbackError::Failed { version: 2, .. }));
    let mut p = plan(&a, &o, Goal::Back).unwrap();
    check(
        &mut p,
        &configs(config("arm64", "r0", "Active")),
        Goal::Back,
    )
    .unwrap();
    assert!(p.warnings[0].contains("runs as r0"), "{:?}", p.warnings);
}

#[test]
fn the_record_remembers_where_the_deploy_had_put_live() {
    let mut r = record();
    let step = |to| Step {
        route: "/api/a".into(),
        function: "demo-a-dev".into(),
        from: None,
        to,
    };
    r.rolled_back(&[step(2)]);
    r.rolled_back(&[step(1)]);
    let a = &r.functions[0];
    assert_eq!(
        (a.live_version.as_deref(), a.rolled_back_from.as_deref()),
        (Some("1"), Some("3"))
    );
    assert_eq!(
        undone_by_deploy(&r),
        ["/api/a (demo-a-dev): live was rolled back from 3 to 1"]
    );
    // Forward again with --to: no longer rolled back.
    r.rolled_back(&[step(3)]);
    assert_eq!(r.functions[0].rolled_back_from, None);
}

#[test]
fn status_names_live_latest_and_kept() {
    assert_eq!(
        versions_line(Some(6), &[4, 5, 6, 7], Some("7")),
        "live 6 (rolled back from 7; latest 7; kept 4, 5, 7)"
    );
    assert_eq!(
        versions_line(Some(7), &[5, 6, 7], None),
        "live 7 (latest; kept 5, 6)"
    );
    assert_eq!(
        versions_line(Some(1), &[1], None),
        "live 1 (latest; kept none)"
    );
    assert_eq!(versions_line(None, &[], None), "no live alias");
}
