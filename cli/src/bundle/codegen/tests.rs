use super::*;
use crate::analysis::{Arity, Method};
use crate::project::DependencyKind;

fn dep(package: &str, source: DependencySource) -> Dependency {
    Dependency {
        package: package.into(),
        rename: None,
        req: "*".into(),
        kind: DependencyKind::Normal,
        optional: false,
        default_features: true,
        features: Vec::new(),
        target: None,
        source,
    }
}

fn registry() -> DependencySource {
    DependencySource::Registry { index: None }
}

/// A package with one dependency of every shape.
fn sample_package() -> Package {
    let mut nextr = dep(
        "nextr",
        DependencySource::Path("/work/nextr/runtime".into()),
    );
    nextr.req = "^0.1".into();
    nextr.default_features = false;
    let mut serde = dep("serde", registry());
    serde.req = "^1.0.100".into();
    serde.features = vec!["derive".into()];
    let mut json = dep("serde_json", registry());
    json.rename = Some("json".into());
    json.req = "^1".into();
    let mut uuid = dep("uuid", registry());
    uuid.req = "^1".into();
    uuid.optional = true;
    uuid.default_features = false;
    uuid.features = vec!["v4".into()];
    let git = dep(
        "gitdep",
        DependencySource::Git {
            url: "https://example.com/gitdep".into(),
            reference: GitReference::Branch("feat/x".into()),
        },
    );
    let mut libc = dep("libc", registry());
    libc.req = "^0.2".into();
    libc.target = Some("cfg(unix)".into());
    let mut tempfile = dep("tempfile", registry());
    tempfile.kind = DependencyKind::Dev;
    let mut cc = dep("cc", registry());
    cc.kind = DependencyKind::Build;
    Package {
        name: "my-app".into(),
        version: "0.3.0".into(),
        edition: "2021".into(),
        manifest_path: "/work/my-app/Cargo.toml".into(),
        lib: Some("my_app".into()),
        dependencies: vec![nextr, serde, json, uuid, git, libc, tempfile, cc],
        features: BTreeMap::from([
            ("default".into(), vec!["ids".into()]),
            (
                "ids".into(),
                vec!["dep:uuid".into(), "serde/rc".into(), "cc/parallel".into()],
            ),
        ]),
        workspace_root: "/work/my-app".into(),
        target_dir: "/work/my-app/target".into(),
    }
}

fn routes() -> Vec<BundleRoute> {
    vec![
        BundleRoute {
            page: "/api/hello".into(),
            file: "api/hello.rs".into(),
            function: "my-app-hello-11111111".into(),
            declares_config: false,
            entry: BundleEntry::Pages,
        },
        BundleRoute {
            page: "/api/post/[pid]".into(),
            file: "api/post/[pid].rs".into(),
            function: "my-app-post-pid-22222222".into(),
            declares_config: true,
            entry: BundleEntry::Pages,
        },
    ]
}

fn generate_sample(profiles: &Profiles) -> BundleCrate {
    let package = sample_package();
    let routes = routes();
    generate(&BundleSpec {
        app: "my-app",
        app_root: Path::new("/work/my-app"),
        package: &package,
        routes: &routes,
        profiles,
        fallback: None,
        proxy: None,
        secrets: false,
    })
    .unwrap()
}

fn release_profile() -> Profiles {
    Profiles {
        release: BTreeMap::from([
            ("codegen-units".into(), Value::Integer(16)),
            ("strip".into(), Value::Boolean(true)),
        ]),
        dev: BTreeMap::new(),
    }
}

#[test]
fn sample_manifest() {
    let krate = generate_sample(&release_profile());
    let manifest = &krate.files[Path::new("Cargo.toml")];
    insta::assert_snapshot!("sample_cargo_toml", manifest);
    // It is valid TOML with the structure cargo expects.
    let parsed: toml::Table = toml::from_str(manifest).unwrap();
    assert_eq!(
        parsed["package"]["name"].as_str(),
        Some("nextr-bundle-my-app")
    );
    assert_eq!(parsed["bin"].as_array().map(Vec::len), Some(2));
    assert!(parsed["workspace"].as_table().is_some_and(|t| t.is_empty()));
    let deps = parsed["dependencies"].as_table().unwrap();
    assert!(!deps.contains_key("tempfile") && !deps.contains_key("cc"));
    assert_eq!(deps["my-app"]["path"].as_str(), Some("/work/my-app"));
    let features = deps["nextr"]["features"].as_array().unwrap();
    assert_eq!(features, &[Value::String("lambda".into())]);
    assert_eq!(
        parsed["features"]["ids"].as_array().unwrap(),
        &[
            Value::String("dep:uuid".into()),
            Value::String("serde/rc".into())
        ]
    );
    assert_eq!(parsed["profile"]["release"]["strip"].as_bool(), Some(true));
}

#[test]
fn bundle_profiles_are_small_and_keep_unwinding() {
    let profiles = Profiles::bundles();
    let krate = generate_sample(&profiles);
    let parsed: toml::Table = toml::from_str(&krate.files[Path::new("Cargo.toml")]).unwrap();
    let release = parsed["profile"]["release"].as_table().unwrap();
    assert_eq!(release["opt-level"].as_str(), Some("s"));
    assert_eq!(release["codegen-units"].as_integer(), Some(1));
    assert_eq!(release["strip"].as_bool(), Some(true));
    let dev = parsed["profile"]["dev"].as_table().unwrap();
    assert_eq!(dev["debug"].as_bool(), Some(false));
    // The runtime turns a handler's panic into a 500: unwinding must stay on.
    for table in [release, dev] {
        assert!(!table.contains_key("panic"));
    }
}

#[test]
fn sample_main() {
    let krate = generate_sample(&Profiles::default());
    let with_config = &krate.files[Path::new("src/bin/my-app-post-pid-22222222.rs")];
    insta::assert_snapshot!("sample_main_with_config", with_config);
    let without = &krate.files[Path::new("src/bin/my-app-hello-11111111.rs")];
    assert!(without.contains("config: nextr::config::RouteConfig::default(),"));
    assert!(without.contains("#[path = \"/work/my-app/api/hello.rs\"]"));
    assert!(!krate.files[Path::new("Cargo.toml")].contains("[profile"));
}

/// The string literals of a generated main, unescaped by a Rust parser.
fn literals(main: &str) -> Vec<String> {
    let file = syn::parse_file(main).unwrap();
    let mut out = Vec::new();
    for item in &file.items {
        if let syn::Item::Mod(m) = item {
            for attr in &m.attrs {
                if let syn::Meta::NameValue(nv) = &attr.meta {
                    if let syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) = &nv.value
                    {
                        out.push(s.value());
                    }
                }
            }
        }
    }
    let mut walk = |text: &str| {
        let tokens: proc_macro2::TokenStream = text.parse().unwrap();
        fn collect(ts: proc_macro2::TokenStream, out: &mut Vec<String>) {
            for tt in ts {
                match tt {
                    proc_macro2::TokenTree::Group(g) => collect(g.stream(), out),
                    proc_macro2::TokenTree::Literal(l) => {
                        if let Ok(syn::Lit::Str(s)) = syn::parse_str::<syn::Lit>(&l.to_string()) {
                            out.push(s.value());
                        }
                    }
                    _ => {}
                }
            }
        }
        collect(tokens, &mut out);
    };
    let body = main.split("fn main").nth(1).unwrap_or_default();
    walk(body);
    out
}

#[test]
fn any_file_name_is_escaped_into_valid_rust() {
    for name in [
        "api/q\"uote.rs",
        "api/back\\slash.rs",
        "api/new\nline.rs",
        "api/日本/[...слаг].rs",
        "api/{brace}.rs",
    ] {
        let page = format!("/{}", name.trim_end_matches(".rs"));
        let route = BundleRoute {
            page: page.clone(),
            file: name.into(),
            function: "f".into(),
            declares_config: false,
            entry: BundleEntry::Pages,
        };
        let source = format!("/app/{name}");
        let main = main_rs("nextr", &source, &route, None);
        assert_eq!(
            literals(&main),
            [source.clone(), page, name.to_owned()],
            "{main}"
        );
    }
}

#[test]
fn a_renamed_runtime_is_called_by_its_name() {
    let mut package = sample_package();
    package.dependencies[0].rename = Some("nx".into());
    let routes = routes();
    let krate = generate(&BundleSpec {
        app: "my-app",
        app_root: Path::new("/work/my-app"),
        package: &package,
        routes: &routes,
        profiles: &Profiles::default(),
        fallback: None,
        proxy: None,
        secrets: false,
    })
    .unwrap();
    let main = &krate.files[Path::new("src/bin/my-app-hello-11111111.rs")];
    assert!(main.contains("nx::lambda::start(") && main.contains("nx::handler!(route::handler)"));
    assert!(krate.files[Path::new("Cargo.toml")].contains("nx = { package = \"nextr\""));
}

#[test]
fn without_a_lib_the_package_is_not_a_dependency() {
    let mut package = sample_package();
    package.lib = None;
    let routes = routes();
    let krate = generate(&BundleSpec {
        app: "my-app",
        app_root: Path::new("/work/my-app"),
        package: &package,
        routes: &routes,
        profiles: &Profiles::default(),
        fallback: None,
        proxy: None,
        secrets: false,
    })
    .unwrap();
    assert!(!krate.files[Path::new("Cargo.toml")].contains("my-app = "));
}

#[test]
fn unsupported_inputs_are_errors() {
    let profiles = Profiles::default();
    let spec = |p| BundleSpec {
        app: "my-app",
        app_root: Path::new("/work/my-app"),
        package: p,
        routes: &[],
        profiles: &profiles,
        fallback: None,
        proxy: None,
        secrets: false,
    };
    let mut package = sample_package();
    package.dependencies.remove(0);
    assert!(matches!(
        generate(&spec(&package)),
        Err(CodegenError::NoRuntimeDependency { .. })
    ));
    let mut package = sample_package();
    package.dependencies[1].source = DependencySource::Registry {
        index: Some("sparse+https://reg.example/".into()),
    };
    let err = generate(&spec(&package)).unwrap_err();
    assert!(
        matches!(err, CodegenError::AlternativeRegistry { ref dependency, .. } if dependency == "serde")
    );
}

#[test]
fn writes_only_what_changed_and_removes_stale_bins() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let krate = generate_sample(&Profiles::default());
    let first = krate.write(dir).unwrap();
    assert_eq!(first.written.len(), 3);
    let main = dir.join("src/bin/my-app-hello-11111111.rs");
    let past = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
    fs::File::options()
        .write(true)
        .open(&main)
        .unwrap()
        .set_modified(past)
        .unwrap();

    let again = krate.write(dir).unwrap();
    assert_eq!(
        again,
        WriteSummary {
            written: vec![],
            unchanged: 3,
            removed: vec![]
        }
    );
    assert_eq!(fs::metadata(&main).unwrap().modified().unwrap(), past);

    let mut fewer = krate.clone();
    fewer
        .files
        .remove(Path::new("src/bin/my-app-post-pid-22222222.rs"));
    let changed = fewer.write(dir).unwrap();
    assert_eq!(
        changed.removed,
        [PathBuf::from("src/bin/my-app-post-pid-22222222.rs")]
    );
    assert!(!dir.join("src/bin/my-app-post-pid-22222222.rs").exists());
    assert_eq!(fs::metadata(&main).unwrap().modified().unwrap(), past);
}

#[test]
fn the_lockfile_is_seeded_only_when_the_users_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("app");
    let bundle = tmp.path().join("bundle");
    fs::create_dir_all(&app).unwrap();
    let mut package = sample_package();
    package.workspace_root = app.clone();
    assert!(!seed_lockfile(&package, &bundle).unwrap());

    fs::write(app.join("Cargo.lock"), "version = 4\n").unwrap();
    assert!(seed_lockfile(&package, &bundle).unwrap());
    assert_eq!(
        fs::read_to_string(bundle.join("Cargo.lock")).unwrap(),
        "version = 4\n"
    );
    // Cargo amends the copy; that alone must not trigger another copy.
    fs::write(bundle.join("Cargo.lock"), "version = 4\n# bundle entry\n").unwrap();
    assert!(!seed_lockfile(&package, &bundle).unwrap());
    fs::write(app.join("Cargo.lock"), "version = 4\n# updated\n").unwrap();
    assert!(seed_lockfile(&package, &bundle).unwrap());
    assert_eq!(
        fs::read_to_string(bundle.join("Cargo.lock")).unwrap(),
        "version = 4\n# updated\n"
    );
}

/// The generated manifest of a real app is accepted by cargo itself.
#[test]
fn cargo_accepts_the_generated_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("app");
    let runtime = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime");
    let runtime = fs::canonicalize(runtime).unwrap();
    fs::create_dir_all(app.join("src")).unwrap();
    fs::create_dir_all(app.join("api")).unwrap();
    fs::write(
        app.join("Cargo.toml"),
        format!(
            "[package]\nname = \"shop\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[features]\ndefault = [\"extra\"]\nextra = []\n\n[dependencies]\nnextr = {{ path = {:?}, default-features = false }}\n\n[target.'cfg(unix)'.dependencies]\nnextr-alias = {{ package = \"nextr\", path = {:?} }}\n",
            runtime.display(),
            runtime.display()
        ),
    )
    .unwrap();
    fs::write(app.join("src/lib.rs"), "").unwrap();
    let package = crate::project::discover_package(&app).unwrap();
    let routes = routes();
    let krate = generate(&BundleSpec {
        app: "shop",
        app_root: package.root(),
        package: &package,
        routes: &routes,
        profiles: &release_profile(),
        fallback: Some("shop-default-00000000"),
        proxy: None,
        secrets: false,
    })
    .unwrap();
    let dir = bundle_dir(&package, "shop");
    assert!(dir.starts_with(crate::project::expected_target_dir(package.root())));
    krate.write(&dir).unwrap();
    let bundle = crate::project::discover_package(&dir).unwrap();
    assert_eq!(bundle.name, "nextr-bundle-shop");
    assert_eq!(bundle.workspace_root, fs::canonicalize(&dir).unwrap());
    let keys: Vec<&str> = bundle.dependencies.iter().map(Dependency::key).collect();
    assert_eq!(keys, ["nextr", "shop", "nextr-alias"]);
    assert!(bundle.dependencies[0]
        .features
        .contains(&"lambda".to_owned()));
    assert_eq!(bundle.dependencies[2].target.as_deref(), Some("cfg(unix)"));
    assert_eq!(bundle.features["default"], ["extra"]);
}

fn app_route(methods: &[(Method, Arity)], pages_router: bool) -> BundleRoute {
    BundleRoute {
        page: "/hooks/deliver/[id]".into(),
        file: "app/hooks/deliver/[id]/route.rs".into(),
        function: "my-app-hooks-deliver-id-33333333".into(),
        declares_config: true,
        entry: BundleEntry::App {
            methods: methods
                .iter()
                .map(|&(method, arity)| MethodFn { method, arity })
                .collect(),
            pages_router,
        },
    }
}

#[test]
fn an_app_main_wraps_each_method_by_its_arity() {
    let route = app_route(
        &[
            (Method::Get, Arity::Request),
            (Method::Post, Arity::RequestContext),
            (Method::Options, Arity::None),
        ],
        true,
    );
    let main = main_rs(
        "nextr",
        "/work/my-app/app/hooks/deliver/[id]/route.rs",
        &route,
        None,
    );
    insta::assert_snapshot!("app_main", main);
    assert!(main.contains("get: Some(nextr::app_handler!(route::get, req)),"));
    assert!(main.contains("post: Some(nextr::app_handler!(route::post)),"));
    assert!(main.contains("options: Some(nextr::app_handler!(route::options, none)),"));
    assert!(main.contains("..Default::default()"));
    assert!(main.contains("pages_router: true,"));
    assert!(main.contains("config: route::config(),"));
    assert!(!main.contains("handler!(route::handler)"));
    // It is Rust.
    syn::parse_file(&main).unwrap();
}

#[test]
fn an_app_main_with_every_method_has_no_default_update() {
    let all: Vec<(Method, Arity)> = Method::ALL
        .into_iter()
        .map(|m| (m, Arity::RequestContext))
        .collect();
    let main = main_rs("nextr", "/a/route.rs", &app_route(&all, false), None);
    assert!(!main.contains("Default::default()"), "{main}");
    assert!(main.contains("pages_router: false,"));
    for m in Method::ALL {
        assert!(main.contains(&format!(
            "{0}: Some(nextr::app_handler!(route::{0})),",
            m.name()
        )));
    }
    syn::parse_file(&main).unwrap();
}

/// The sample app with a `proxy.rs` (or `middleware.rs`), and an App route.
fn generate_proxied(file: &str, function: &str) -> BundleCrate {
    let package = sample_package();
    let mut routes = routes();
    routes.push(app_route(&[(Method::Get, Arity::Request)], true));
    let proxy = BundleProxy {
        file: file.into(),
        function: function.into(),
    };
    generate(&BundleSpec {
        app: "my-app",
        app_root: Path::new("/work/my-app"),
        package: &package,
        routes: &routes,
        profiles: &Profiles::default(),
        fallback: Some("my-app-default-00000000"),
        proxy: Some(&proxy),
        secrets: false,
    })
    .unwrap()
}

#[test]
fn every_main_of_an_app_with_a_proxy_runs_it() {
    let krate = generate_proxied("proxy.rs", "proxy");
    let pages = &krate.files[Path::new("src/bin/my-app-hello-11111111.rs")];
    insta::assert_snapshot!("proxied_pages_main", pages);
    let app = &krate.files[Path::new("src/bin/my-app-hooks-deliver-id-33333333.rs")];
    insta::assert_snapshot!("proxied_app_main", app);
    let fallback = &krate.files[Path::new("src/bin/my-app-default-00000000.rs")];
    insta::assert_snapshot!("proxied_fallback_main", fallback);
    // Every binary, each route's and `$default`'s, includes the proxy and runs it.
    let bins: Vec<&String> = krate
        .files
        .iter()
        .filter(|(path, _)| path.starts_with("src/bin"))
        .map(|(_, main)| main)
        .collect();
    assert_eq!(bins.len(), 4);
    for main in bins {
        assert!(
            main.contains("#[path = \"/work/my-app/proxy.rs\"]\n#[allow(dead_code)]\nmod proxy;\n"),
            "{main}"
        );
        assert!(
            main.contains("nextr::proxy_handler!(proxy::proxy)"),
            "{main}"
        );
        assert!(main.contains("_proxied("), "{main}");
        syn::parse_file(main).unwrap();
    }
    // A main names its own route only: adding a route changes no other binary.
    assert!(
        !pages.contains("post") && !pages.contains("hooks"),
        "{pages}"
    );
    assert!(pages.contains("nextr::lambda::start_proxied("));
    assert!(app.contains("nextr::lambda::start_app_proxied("));
    assert!(fallback.contains("nextr::lambda::start_fallback_proxied("));
    // The runtime's `proxy` feature is enabled beside `lambda`.
    let manifest: toml::Table = toml::from_str(&krate.files[Path::new("Cargo.toml")]).unwrap();
    let features = manifest["dependencies"]["nextr"]["features"]
        .as_array()
        .unwrap();
    assert_eq!(
        features,
        &[
            Value::String("lambda".into()),
            Value::String("proxy".into())
        ]
    );
}

#[test]
fn a_middleware_file_is_the_same_module_with_its_own_function() {
    let krate = generate_proxied("middleware.rs", "middleware");
    for (path, main) in &krate.files {
        if path.starts_with("src/bin") {
            assert!(
                main.contains("#[path = \"/work/my-app/middleware.rs\"]"),
                "{main}"
            );
            assert!(
                main.contains("nextr::proxy_handler!(proxy::middleware)"),
                "{main}"
            );
        }
    }
}

#[test]
fn without_a_proxy_the_mains_and_features_are_unchanged() {
    let krate = generate_sample(&Profiles::default());
    for main in krate.files.values() {
        assert!(!main.contains("proxy"), "{main}");
    }
    assert_eq!(
        fallback_main_rs("nextr", None),
        "// Generated by nextr build: the app's `$default` function.\n\nfn main() -> std::process::ExitCode {\n    nextr::lambda::start_fallback()\n}\n"
    );
}

#[test]
fn an_app_with_secrets_turns_on_the_runtimes_secrets_feature_and_nothing_else() {
    let package = sample_package();
    let routes = routes();
    let with = |secrets| {
        generate(&BundleSpec {
            app: "my-app",
            app_root: Path::new("/work/my-app"),
            package: &package,
            routes: &routes,
            profiles: &Profiles::default(),
            fallback: Some("my-app-default-00000000"),
            proxy: None,
            secrets,
        })
        .unwrap()
    };
    let (plain, secret) = (with(false), with(true));
    let features = |krate: &BundleCrate| {
        let manifest: toml::Table = toml::from_str(&krate.files[Path::new("Cargo.toml")]).unwrap();
        manifest["dependencies"]["nextr"]["features"].clone()
    };
    assert_eq!(
        features(&secret).as_array().unwrap(),
        &[
            Value::String("lambda".into()),
            Value::String("secrets".into())
        ]
    );
    assert!(!features(&plain)
        .as_array()
        .unwrap()
        .contains(&Value::String("secrets".into())));
    // The mains are the same: the runtime reads the secrets in its entry points.
    for (path, main) in &plain.files {
        if path.starts_with("src/bin") {
            assert_eq!(&secret.files[path], main);
        }
    }
}

#[test]
fn a_second_build_of_one_app_waits_for_the_first_to_release_the_bundle_crate() {
    use std::sync::mpsc;
    let dir = tempfile::tempdir().unwrap();
    let crate_dir = dir.path().join("nextr").join("demo");
    let first = lock_bundle_dir(&crate_dir, |_| panic!("nobody holds it yet")).unwrap();
    let (told, waited) = mpsc::channel();
    let (got, acquired) = mpsc::channel();
    let second_dir = crate_dir.clone();
    let second = std::thread::spawn(move || {
        let lock =
            lock_bundle_dir(&second_dir, |path| told.send(path.to_owned()).unwrap()).unwrap();
        got.send(()).unwrap();
        drop(lock);
    });
    let path = waited
        .recv_timeout(std::time::Duration::from_secs(30))
        .unwrap();
    assert_eq!(path, crate_dir.join(BUILD_LOCK));
    assert!(
        acquired
            .recv_timeout(std::time::Duration::from_millis(200))
            .is_err(),
        "the second build must wait while the first holds the lock"
    );
    drop(first);
    acquired
        .recv_timeout(std::time::Duration::from_secs(30))
        .unwrap();
    second.join().unwrap();
}
