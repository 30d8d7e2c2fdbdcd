//! `nextr build` end to end on a real multi-route app linking the workspace's runtime crate:
//! the manifest, the zips (one executable `bootstrap` for x86-64 Linux), reproducibility,
//! rebuilding only what changed, and a bundle answering an API Gateway v2 event through the
//! emulator's Runtime API (`nextr invoke`). Then the failures: each a clear message, exit 1,
//! and the previous `.nextr/` left byte for byte as it was.
//!
//! Every app builds with `--debug` in the shared target dir of [`support::apps`].

#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use nextr::manifest::{Architecture, Manifest};
use nextr_cli::bundle::{elf, hex};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::apps::{TestApp, HELLO};
use support::target_dir;

/// A route of every kind, one using serde, one using the app's lib.
const ROUTES: &[(&str, &str)] = &[
    ("api/hello.rs", HELLO),
    (
        "api/index.rs",
        r#"use nextr::prelude::*;

pub async fn handler(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(200).send("index")
}
"#,
    ),
    (
        "api/items/[id].rs",
        r#"use nextr::prelude::*;

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let id = req.query.str("id").unwrap_or_default().to_owned();
    res.set_header("x-route", "items")?.status(200).json(&json!({ "id": id }))
}
"#,
    ),
    (
        "api/users/[uid]/posts/[pid].rs",
        r#"//! Nested dynamic: the whole `req.query`, params merged over the query string.
use nextr::prelude::*;

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.set_header("x-method", req.method.as_str())?;
    res.status(200).json(&req.query)
}
"#,
    ),
    (
        "api/files/[...path].rs",
        r#"use nextr::prelude::*;

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let path = req.query.get("path").cloned();
    res.status(200).json(&json!({ "path": path }))
}
"#,
    ),
    (
        "api/docs/[[...slug]].rs",
        r#"use nextr::prelude::*;

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let slug = req.query.get("slug").cloned();
    res.status(200).json(&json!({ "slug": slug }))
}
"#,
    ),
    (
        "api/orders.rs",
        r#"//! A dependency of the app (serde's derive) in a route.
use nextr::prelude::*;

nextr::config! {
    max_duration: 7,
    body_parser: { size_limit: "1kb" },
}

#[derive(serde::Deserialize)]
struct Order {
    item: String,
    qty: u32,
}

#[derive(serde::Serialize)]
struct Receipt {
    item: String,
    qty: u32,
    total_cents: u64,
}

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let order: Order = req.json()?;
    let receipt = Receipt {
        total_cents: u64::from(order.qty) * 250,
        item: order.item,
        qty: order.qty,
    };
    res.status(201).json(&receipt)
}
"#,
    ),
    (
        "api/greet/[name].rs",
        r#"//! The app's own lib in a route.
use nextr::prelude::*;

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let name = req.query.str("name").unwrap_or_default();
    res.status(200).send(test_app::greeting(name))
}
"#,
    ),
];

fn shop(name: &str) -> TestApp {
    let app = TestApp::new(name);
    for (file, text) in ROUTES {
        app.write(file, text);
    }
    app
}

/// The manifest as JSON with what changes between builds and machines replaced.
fn redacted(manifest: &Manifest) -> Value {
    let mut json = serde_json::to_value(manifest).unwrap();
    json["nextr_version"] = json!("[version]");
    let redact = |function: &mut Value| {
        function["sha256"] = json!("[sha256]");
        function["bytes"] = json!("[bytes]");
        // `functions/<name>-<sha256 prefix>.zip`
        let bundle = function["bundle"].as_str().unwrap();
        let name = bundle.rsplit_once('-').unwrap().0;
        function["bundle"] = json!(format!("{name}-[sha256].zip"));
    };
    for route in json["routes"].as_array_mut().unwrap() {
        redact(&mut route["function"]);
    }
    redact(&mut json["fallback"]);
    // Where the app and the runtime sit, and their files' times, are the machine's.
    json["source"]["inputs"] = json!("[paths]");
    json["source"]["fingerprint"] = json!("[digest]");
    json
}

fn sha256s(manifest: &Manifest) -> BTreeMap<String, String> {
    manifest
        .routes
        .iter()
        .map(|r| {
            let f = r.function.as_ref().unwrap();
            (r.page.clone(), f.sha256.clone())
        })
        .chain([("$default".to_owned(), manifest.fallback.sha256.clone())])
        .collect()
}

fn mtime(path: &Path) -> SystemTime {
    fs::metadata(path).unwrap().modified().unwrap()
}

fn past() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000)
}

fn backdate(path: &Path) {
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(past())
        .unwrap();
}

/// Each route's zip, by page, as the manifest names it.
fn bundles(app: &TestApp, manifest: &Manifest) -> BTreeMap<String, PathBuf> {
    manifest
        .routes
        .iter()
        .map(|r| {
            (
                r.page.clone(),
                app.out().join(&r.function.as_ref().unwrap().bundle),
            )
        })
        .chain([(
            "$default".to_owned(),
            app.out().join(&manifest.fallback.bundle),
        )])
        .collect()
}

/// Every file in `.nextr/functions/`.
fn zip_files(app: &TestApp) -> BTreeSet<PathBuf> {
    fs::read_dir(app.out().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

/// Asserts that every zip the manifest on disk lists is there with the manifest's sha256 and
/// size; returns that manifest.
fn assert_consistent(app: &TestApp) -> Manifest {
    let manifest = app.manifest();
    for f in manifest.functions() {
        let bytes = fs::read(app.out().join(&f.bundle))
            .unwrap_or_else(|e| panic!("{} listed but unreadable: {e}", f.bundle));
        assert_eq!(hex(&Sha256::digest(&bytes)), f.sha256, "{}", f.bundle);
        assert_eq!(bytes.len() as u64, f.bytes, "{}", f.bundle);
    }
    manifest
}

/// Opens a bundle: exactly one entry, `bootstrap`, mode 0755; its bytes.
fn bootstrap_of(zip: &Path) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(fs::File::open(zip).unwrap()).unwrap();
    assert_eq!(archive.len(), 1, "{}", zip.display());
    let mut entry = archive.by_index(0).unwrap();
    assert_eq!(entry.name(), "bootstrap");
    assert_eq!(entry.unix_mode().map(|m| m & 0o7777), Some(0o755));
    assert!(entry.is_file());
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes).unwrap();
    bytes
}

#[test]
fn a_real_app_builds_into_checked_reproducible_bundles_that_answer_api_gateway() {
    let app = shop("full");
    let out = app.build_output();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("Building 8 routes of {} for x86_64", app.name())),
        "{stderr}"
    );
    for (page, kind) in [
        ("/api/users/[uid]/posts/[pid]", "dynamic"),
        ("/api/docs/[[...slug]]", "optional catch-all"),
        ("/api/files/[...path]", "catch-all"),
        ("/api ", "static"),
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(page) && l.contains(kind)),
            "{page} {kind}:\n{stdout}"
        );
    }
    // Eight routes and the app's `$default` function.
    assert!(stdout.contains("9 functions"), "{stdout}");
    assert!(stdout.contains("9 updated"), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("$default") && l.contains("128 MB")),
        "{stdout}"
    );

    // The manifest: routes in precedence order, kinds, params, keys, config, functions.
    let manifest = app.manifest();
    insta::assert_json_snapshot!("real_app_manifest", redacted(&manifest));

    // Every zip: what the manifest says it is, one executable x86-64 `bootstrap`.
    let unpacked = tempfile::tempdir().unwrap();
    for route in &manifest.routes {
        let f = route.function.as_ref().unwrap();
        let zip = app.out().join(&f.bundle);
        let bytes = fs::read(&zip).unwrap();
        assert_eq!(f.sha256, hex(&Sha256::digest(&bytes)), "{}", route.page);
        assert_eq!(f.bytes, bytes.len() as u64);
        let binary = unpacked.path().join(&f.name);
        fs::write(&binary, bootstrap_of(&zip)).unwrap();
        let info = elf::check(&binary, &route.page, Architecture::X86_64)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(info.architecture, Architecture::X86_64);
        assert!(info.max_glibc.is_some_and(|v| v <= elf::LAMBDA_GLIBC));
    }
    let first = sha256s(&manifest);

    // Reproducible: with the dependencies kept but the app's own crates cleaned and `.nextr`
    // deleted, a second build compiles and links every route again into identical bytes.
    fs::remove_dir_all(app.out()).unwrap();
    let bundle_manifest = app.bundle_crate().join("Cargo.toml");
    let clean = Command::new(env!("CARGO"))
        .args(["clean", "--quiet", "--manifest-path"])
        .arg(&bundle_manifest)
        .arg("--target-dir")
        .arg(target_dir().join("nextr/target"))
        .args([
            "-p",
            &format!("nextr-bundle-{}", app.name()),
            "-p",
            "test-app",
        ])
        .status()
        .unwrap();
    assert!(clean.success());
    let hello = manifest
        .routes
        .iter()
        .find(|r| r.page == "/api/hello")
        .unwrap();
    let hello_bin = app.binary(&hello.function.as_ref().unwrap().name);
    assert!(
        !hello_bin.exists(),
        "cargo clean left {}",
        hello_bin.display()
    );
    let again = app.build();
    assert!(hello_bin.exists());
    assert_eq!(sha256s(&again), first);
    assert_eq!(redacted(&again), redacted(&manifest));

    // Editing one route recompiles and re-zips that route only.
    let zips: BTreeMap<String, _> = again
        .routes
        .iter()
        .map(|r| {
            let f = r.function.as_ref().unwrap();
            (
                r.page.clone(),
                (app.out().join(&f.bundle), app.binary(&f.name)),
            )
        })
        .collect();
    // Zips are backdated; binaries are not (cargo would see them as older than their
    // sources), their mtimes are compared instead.
    let linked: BTreeMap<&String, SystemTime> = zips
        .iter()
        .map(|(page, (_, binary))| (page, mtime(binary)))
        .collect();
    for (zip, _) in zips.values() {
        backdate(zip);
    }
    app.write(
        "api/hello.rs",
        &HELLO.replace("Hello from Next.js!", "Hello again!"),
    );
    let out = app.build_output();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("9 functions"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 updated"));
    let edited = app.manifest();
    let bundles = bundles(&app, &edited);
    for (page, (zip, binary)) in &zips {
        let changed = page == "/api/hello";
        // A changed route's zip has a new name; no zip is rewritten in place, and the
        // replaced one stays for the previous manifest until the next build.
        assert_eq!(bundles[page] != *zip, changed, "zip of {page}");
        assert_eq!(mtime(zip), past(), "zip of {page}");
        assert_eq!(mtime(binary) != linked[page], changed, "binary of {page}");
    }
    let now = sha256s(&edited);
    for (page, sha) in &first {
        assert_eq!(now[page] != *sha, page == "/api/hello", "{page}");
    }

    // Nothing changed: nothing under `.nextr` is rewritten, the manifest included; the zip
    // only the build before last listed goes.
    let manifest_path = app.out().join("routes-manifest.json");
    backdate(&manifest_path);
    for zip in bundles.values() {
        backdate(zip);
    }
    let out = app.build_output();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("0 updated, 1 removed"), "{stdout}");
    assert_eq!(mtime(&manifest_path), past());
    for zip in bundles.values() {
        assert_eq!(mtime(zip), past());
    }
    assert!(!zips["/api/hello"].0.exists());
    assert_eq!(zip_files(&app), bundles.values().cloned().collect());

    // A deleted route: the manifest drops it; its zip stays one build more, for a `nextr dev`
    // or deploy that read the previous manifest.
    app.remove("api/index.rs");
    let out = app.build_output();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("8 functions"));
    assert!(app.manifest().routes.iter().all(|r| r.page != "/api"));
    assert!(bundles["/api"].exists());
    let out = app.build_output();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 removed"));
    assert!(!bundles["/api"].exists());
    assert!(bundles["/api/hello"].exists());

    // A bundle's bootstrap under the emulator's Runtime API, given API Gateway's v2 event.
    let call = app.invoke(
        "/api/users/[uid]/posts/[pid]",
        &[
            "--path",
            "/api/users/7/posts/hello%20world?tag=a&tag=b&uid=x",
        ],
    );
    assert_eq!(call.code, 0, "{}", call.stderr);
    assert_eq!(call.response["statusCode"], 200, "{}", call.response);
    assert_eq!(
        call.response["headers"]["content-type"],
        "application/json; charset=utf-8"
    );
    assert_eq!(call.response["headers"]["x-method"], "GET");
    assert_eq!(
        call.body_json(),
        json!({ "tag": ["a", "b"], "uid": "7", "pid": "hello world" })
    );
    assert!(call.stderr.contains("REPORT RequestId:"), "{}", call.stderr);

    let call = app.invoke(
        "api/orders.rs",
        &["--method", "POST", "--body", r#"{"item":"tea","qty":3}"#],
    );
    assert_eq!(call.response["statusCode"], 201, "{}", call.stderr);
    assert_eq!(
        call.body_json(),
        json!({ "item": "tea", "qty": 3, "total_cents": 750 })
    );
    let call = app.invoke(
        "api/orders.rs",
        &["--method", "POST", "--body", r#"{"item":"tea"}"#],
    );
    assert_eq!(call.response["statusCode"], 400);
    assert_eq!(
        call.response["body"], "Invalid body: missing field `qty`",
        "{}",
        call.response
    );

    let call = app.invoke("/api/greet/[name]", &["--path", "/api/greet/Ada"]);
    assert_eq!(call.response["statusCode"], 200);
    assert_eq!(call.response["body"], "Hello, Ada!");

    let call = app.invoke("/api/hello", &[]);
    assert_eq!(call.body_json(), json!({ "message": "Hello again!" }));

    let call = app.invoke("/api/docs/[[...slug]]", &["--path", "/api/docs"]);
    assert_eq!(call.body_json(), json!({ "slug": null }));
    let call = app.invoke("/api/files/[...path]", &["--path", "/api/files/a/b.txt"]);
    assert_eq!(call.body_json(), json!({ "path": ["a", "b.txt"] }));
}

#[test]
fn an_app_without_src_builds_without_its_own_crate() {
    let app = TestApp::without_lib("nolib");
    app.write("api/hello.rs", HELLO);
    assert!(!app.path().join("src").exists());
    let manifest = app.build();
    assert_eq!(manifest.routes.len(), 1);
    let generated = fs::read_to_string(app.bundle_crate().join("Cargo.toml")).unwrap();
    assert!(!generated.contains("test-app"), "{generated}");
    let call = app.invoke("/api/hello", &[]);
    assert_eq!(call.code, 0, "{}", call.stderr);
    assert_eq!(call.response["statusCode"], 200);
    assert_eq!(
        call.body_json(),
        json!({ "message": "Hello from Next.js!" })
    );
}

/// A built app to break: its `.nextr/` as the failing build must leave it.
fn built(name: &str) -> (TestApp, support::apps::FileSnapshot) {
    let app = TestApp::new(name);
    app.write("api/hello.rs", HELLO);
    app.build();
    let before = app.out_files();
    assert!(before.len() >= 2, "{before:?}");
    (app, before)
}

/// Runs the build; asserts exit 1 and an untouched `.nextr/`; returns stderr.
fn fails(app: &TestApp, before: &support::apps::FileSnapshot) -> String {
    let out = app.build_output();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(&app.out_files(), before, "{stderr}");
    stderr
}

#[test]
fn an_invalid_tree_names_the_files_and_keeps_the_previous_build() {
    let (app, before) = built("tree");
    app.write("api/post/[pid].rs", HELLO)
        .write("api/post/[id]/edit.rs", HELLO)
        .write("api/note/[...all]/x.rs", HELLO);
    let stderr = fails(&app, &before);
    assert!(
        stderr.contains("invalid route tree: 2 problems"),
        "{stderr}"
    );
    assert!(
        stderr.contains("api/post/[pid].rs, api/post/[id]/edit.rs: You cannot use different slug names for the same dynamic path ('id' !== 'pid')."),
        "{stderr}"
    );
    assert!(
        stderr.contains("api/note/[...all]/x.rs: Catch-all must be the last part of the URL."),
        "{stderr}"
    );
}

#[test]
fn a_route_without_handler_is_named_with_its_line() {
    let (app, before) = built("nohandler");
    app.write(
        "api/nothing.rs",
        "use nextr::prelude::*;\n\npub async fn handle(_req: &mut NextApiRequest, _res: &mut NextApiResponse) -> nextr::Result<()> {\n    Ok(())\n}\n",
    );
    let stderr = fails(&app, &before);
    assert!(stderr.contains("api/nothing.rs"), "{stderr}");
    assert!(stderr.contains("handler"), "{stderr}");
    assert!(stderr.contains("[api/nothing.rs:"), "{stderr}");
}

#[test]
fn a_bad_config_key_is_named_with_its_line() {
    let (app, before) = built("badconfig");
    app.write(
        "api/hello.rs",
        &HELLO.replace(
            "use nextr::prelude::*;\n",
            "use nextr::prelude::*;\n\nnextr::config! {\n    max_durration: 5,\n}\n",
        ),
    );
    let stderr = fails(&app, &before);
    assert!(stderr.contains("[api/hello.rs:4:5]"), "{stderr}");
    assert!(stderr.contains("max_durration"), "{stderr}");
    assert!(stderr.contains("max_duration"), "{stderr}");
}

#[test]
fn a_compile_error_points_at_the_route_file_not_the_generated_main() {
    let (app, before) = built("compile");
    app.write(
        "api/hello.rs",
        &HELLO.replace(
            "    res.status(200)",
            "    let n: u8 = \"not a number\";\n    res.status(n.into())",
        ),
    );
    let stderr = fails(&app, &before);
    assert!(stderr.contains("mismatched types"), "{stderr}");
    let file = app.path().join("api/hello.rs");
    assert!(
        stderr.contains(&format!("{}:4:", file.display())),
        "{stderr}"
    );
    assert!(!stderr.contains("src/bin/"), "{stderr}");
    assert!(
        stderr.contains("error: the build failed with 1 compiler error in api/hello.rs"),
        "{stderr}"
    );
    assert!(!stderr.contains("(bin \""), "{stderr}");
}

#[test]
fn a_missing_cargo_toml_is_explained() {
    let (app, before) = built("nocargo");
    app.remove("Cargo.toml");
    let stderr = fails(&app, &before);
    assert!(
        stderr.contains(&format!("no Cargo.toml in {}", app.path().display())),
        "{stderr}"
    );
    assert!(stderr.contains("a nextr app is a Cargo package with an `api/` folder"));
}

#[test]
fn another_architecture_without_a_cross_toolchain_says_what_to_install() {
    // arm64 on an x86_64 machine, x86_64 on an arm64 one; no zig wherever cargo-zigbuild
    // would look (its own variables, which nextr's probe honours too), whatever this machine
    // has installed: the build stops before compiling anything, naming what is missing.
    let other = Architecture::ALL
        .into_iter()
        .find(|a| a.machine() != std::env::consts::ARCH)
        .unwrap();
    let triple = other.target_triple();
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .unwrap();
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_owned();
    let has_std = Path::new(&sysroot)
        .join(format!("lib/rustlib/{triple}/lib"))
        .is_dir();
    let app = TestApp::new("arm");
    app.write("api/hello.rs", HELLO);
    let out = app
        .nextr()
        .args(["build", "--arch", other.as_str()])
        .arg(app.path())
        .env("CARGO_ZIGBUILD_ZIG_PATH", "/nonexistent/zig")
        .env("CARGO_ZIGBUILD_PYTHON_PATH", "/nonexistent/python3")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "building {other} functions on this {} machine needs what is not installed here",
            std::env::consts::ARCH
        )),
        "{stderr}"
    );
    assert!(stderr.contains("ziglang`"), "{stderr}");
    assert_eq!(
        stderr.contains(&format!("rustup target add {triple}")),
        !has_std,
        "{stderr}"
    );
    assert!(!app.out().exists());
}

/// A route answering `text`: each text compiles into a different binary.
fn saying(text: &str) -> String {
    format!(
        r#"use nextr::prelude::*;

pub async fn handler(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {{
    res.status(200).send("{text}")
}}
"#
    )
}

#[test]
fn a_build_killed_while_zipping_leaves_a_manifest_whose_zips_all_match() {
    let app = TestApp::new("killed-zipping");
    app.write("api/hello.rs", HELLO)
        .write("api/a.rs", &saying("a1"))
        .write("api/b.rs", &saying("b1"));
    app.build();
    let first = assert_consistent(&app);

    // Two routes change; the build dies (as `kill -9` would) right after the first new zip.
    app.write("api/a.rs", &saying("a2"))
        .write("api/b.rs", &saying("b2"));
    let out = app
        .nextr()
        .env("NEXTR_TEST_ABORT_AFTER_ZIPS", "1")
        .args(["build", "--debug"])
        .arg(app.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), None, "{out:?}");
    assert_eq!(assert_consistent(&app), first);
    let orphans: Vec<PathBuf> = zip_files(&app)
        .difference(&bundles(&app, &first).into_values().collect())
        .cloned()
        .collect();
    assert_eq!(orphans.len(), 1, "{orphans:?}");

    // The next build lists its own zips and keeps the previous manifest's; the interrupted
    // build's zip, which neither lists, goes.
    app.write("api/a.rs", &saying("a3"))
        .write("api/b.rs", &saying("b3"));
    app.build();
    let third = assert_consistent(&app);
    assert!(!orphans[0].exists());
    let listed = |m: &Manifest| bundles(&app, m).into_values().collect::<BTreeSet<_>>();
    assert_eq!(
        zip_files(&app),
        listed(&first).union(&listed(&third)).cloned().collect()
    );

    // And the one after that keeps exactly its manifest's zips.
    app.build();
    assert_eq!(assert_consistent(&app), third);
    assert_eq!(zip_files(&app), listed(&third));
}

/// The processes whose parent is `pid`, with their command names.
fn children(pid: u32) -> Vec<(u32, String)> {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|task| fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|c| c.parse().ok())
                .collect::<Vec<u32>>()
        })
        .filter_map(|child| {
            let comm = fs::read_to_string(format!("/proc/{child}/comm")).ok()?;
            Some((child, comm.trim().to_owned()))
        })
        .collect()
}

/// Whether `pid` still runs (a zombie nobody reaped yet does not).
fn running(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat.rsplit_once(") ").map(|(_, rest)| &rest[..1]);
        !matches!(state, Some("Z" | "X"))
    })
}

/// Polls `done` every 50 ms for up to `limit`.
fn within(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    done()
}

#[test]
fn a_killed_build_stops_its_cargo() {
    let app = TestApp::new("killed-compiling");
    // A route the compiler needs seconds for (a constant it evaluates), salted so that no
    // earlier run's build of it is reused.
    let salt = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    app.write(
        "api/slow.rs",
        &format!(
            r#"use nextr::prelude::*;

#[allow(long_running_const_eval)]
const SLOW: u64 = {{
    let mut i = 0u64;
    let mut x = {salt}u64;
    while i < 4_000_000 {{
        x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
        i += 1;
    }}
    x
}};

pub async fn handler(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {{
    res.status(200).send(&SLOW.to_string())
}}
"#
        ),
    );
    let mut nextr = support::nextr()
        .args(["build", "--debug"])
        .arg(app.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed once rustc compiles the slow route: cargo has said all it will say until that
    // compiler is done, so only the parent-death signal can stop it now.
    let mut cargo = None;
    let mut rustc = None;
    let compiling = within(Duration::from_secs(120), || {
        cargo = children(nextr.id())
            .into_iter()
            .find(|(_, comm)| comm == "cargo")
            .map(|(pid, _)| pid);
        rustc = cargo.into_iter().flat_map(children).find_map(|(pid, _)| {
            let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            String::from_utf8_lossy(&cmdline)
                .contains("killed_compiling_slow")
                .then_some(pid)
        });
        rustc.is_some()
    });
    assert!(compiling, "cargo never compiled the slow route: {cargo:?}");
    let (cargo, rustc) = (cargo.unwrap(), rustc.unwrap());
    nextr.kill().unwrap();
    nextr.wait().unwrap();
    let killed = std::time::Instant::now();
    assert!(
        within(Duration::from_secs(5), || !running(cargo)),
        "cargo ({cargo}) outlived the nextr that ran it"
    );
    // Its rustc is not signalled: it ends with its crate (see `dies_with_this_thread`).
    assert!(within(Duration::from_secs(120), || !running(rustc)));
    eprintln!(
        "rustc ended {:.1} s after nextr was killed",
        killed.elapsed().as_secs_f64()
    );
}
