//! The app's `.env` files, read in Next's order (`@next/env`), highest first:
//!
//! | `nextr dev`, `nextr invoke` (development) | `nextr build` (production) |
//! |---|---|
//! | `.env.development.local` | `.env.production.local` |
//! | `.env.local` | `.env.local` |
//! | `.env.development` | `.env.production` |
//! | `.env` | `.env` |
//!
//! A name set in several files takes the highest file's value. `nextr.toml`'s `[env]` and
//! `[routes."<page>".env]` lie above all of them ([`super::AppConfig::env_for`]). The
//! developer's shell does not enter the manifest: a deployed function gets exactly what the
//! files say, and `nextr dev` lets a shell variable win for the names a function declares
//! when it starts the function, as Next lets `process.env` win.
//!
//! Each file is parsed by `dotenvy`: `#` comments, `export NAME=value`, single quotes (taken
//! as written), double quotes (with `\n` escapes, over several lines), and `$NAME` /
//! `${NAME}` expanded as `dotenv-expand` does for Next: from the shell first, then from the
//! lines above in the same file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::app_config::env_name_problem;
use super::RESERVED_ENV;

/// Which set of files a build reads: Next's `NODE_ENV`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EnvMode {
    /// `nextr dev` and `nextr invoke`: `.env.development*`.
    Development,
    /// `nextr build` (and so deploy): `.env.production*`.
    #[default]
    Production,
}

impl EnvMode {
    /// `development` or `production`, as in the file names.
    pub fn as_str(self) -> &'static str {
        match self {
            EnvMode::Development => "development",
            EnvMode::Production => "production",
        }
    }

    /// The files of this mode, highest first.
    pub fn files(self) -> [&'static str; 4] {
        match self {
            EnvMode::Development => [
                ".env.development.local",
                ".env.local",
                ".env.development",
                ".env",
            ],
            EnvMode::Production => [
                ".env.production.local",
                ".env.local",
                ".env.production",
                ".env",
            ],
        }
    }
}

/// Every `.env` file name of either mode: what `nextr dev` watches.
pub const DOTENV_FILES: [&str; 6] = [
    ".env",
    ".env.local",
    ".env.development",
    ".env.development.local",
    ".env.production",
    ".env.production.local",
];

/// Why a `.env` file was refused. Messages never carry a value: `.env` files hold secrets.
#[derive(Debug, thiserror::Error)]
pub enum DotEnvError {
    /// The file exists but could not be read.
    #[error("cannot read {}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A line that is not `NAME=value`.
    #[error("{}:{line}: not a `NAME=value` line (or a quote is not closed)", .path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
    },
    /// A name Lambda would refuse.
    #[error("{}:{line}: `{name}`: {problem}", .path.display())]
    Name {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// The name as written.
        name: String,
        /// What is wrong with it.
        problem: String,
    },
}

/// The variables of an app's `.env` files for one mode.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DotEnv {
    /// The mode the files were chosen for.
    pub mode: EnvMode,
    /// Each variable's value, from the highest file that sets it.
    pub values: BTreeMap<String, String>,
    /// The file each value came from.
    pub origin: BTreeMap<String, &'static str>,
    /// The files that exist, highest first.
    pub loaded: Vec<&'static str>,
    /// Names left out because Lambda sets them itself: (file, name).
    pub reserved: Vec<(&'static str, String)>,
}

impl DotEnv {
    /// Reads the `.env` files of `mode` in the app folder `root`; missing files are skipped.
    pub fn load(root: &Path, mode: EnvMode) -> Result<Self, DotEnvError> {
        let mut out = DotEnv {
            mode,
            ..DotEnv::default()
        };
        for name in mode.files() {
            let path = root.join(name);
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => return Err(DotEnvError::Io { path, source }),
            };
            out.loaded.push(name);
            for (key, value) in parse(&path, &text)? {
                if RESERVED_ENV.contains(&key.as_str()) {
                    // AWS credentials in `.env.local` are common (the SDK reads them); Lambda
                    // refuses them in a function's configuration, and sets its own.
                    out.reserved.push((name, key));
                    continue;
                }
                // Files come highest first: the first value of a name stays.
                if !out.values.contains_key(&key) {
                    out.origin.insert(key.clone(), name);
                    out.values.insert(key, value);
                }
            }
        }
        Ok(out)
    }

    /// What the build should say about these files: names Lambda reserves (left out), and
    /// in production the names taken from a `.local` file, which is meant for one machine
    /// and usually not committed, so that deploying its values is never silent. `shadowed`
    /// are names `nextr.toml`'s `[env]` sets, which no function takes from the files.
    pub fn warnings(&self, shadowed: &BTreeMap<String, String>) -> Vec<String> {
        let mut out = Vec::new();
        for file in self.loaded.iter().filter(|f| f.ends_with(".local")) {
            if self.mode != EnvMode::Production {
                break;
            }
            let keys: Vec<&str> = self
                .origin
                .iter()
                .filter(|(k, f)| *f == file && !shadowed.contains_key(*k))
                .map(|(k, _)| k.as_str())
                .collect();
            if keys.is_empty() {
                continue;
            }
            out.push(format!(
                "this production build takes {} from {file}, a file for one machine: {} deployed with the functions (move {} to .env.production or nextr.toml's [env] if meant for production, else out of {file})",
                keys.join(", "),
                if keys.len() == 1 { "it is" } else { "they are" },
                if keys.len() == 1 { "it" } else { "them" },
            ));
        }
        for (file, key) in &self.reserved {
            out.push(format!(
                "{file}: {key} is reserved by Lambda, which sets it itself: the functions do not get it"
            ));
        }
        out
    }
}

/// The variables of one `.env` file, in order; `path` names it in errors.
pub fn parse(path: &Path, text: &str) -> Result<Vec<(String, String)>, DotEnvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let braced = brace_names(text);
    let mut out = Vec::new();
    for item in dotenvy::from_read_iter(braced.as_bytes()) {
        match item {
            Ok((key, value)) => {
                if let Some(problem) = env_name_problem(&key) {
                    if !RESERVED_ENV.contains(&key.as_str()) {
                        return Err(DotEnvError::Name {
                            path: path.to_path_buf(),
                            line: line_of_name(text, &key),
                            name: key,
                            problem,
                        });
                    }
                }
                out.push((key, value));
            }
            Err(dotenvy::Error::LineParse(line, _)) => {
                // The bad line's text holds a value, maybe a secret: it is only looked up.
                let line = braced
                    .find(line.as_str())
                    .map_or(1, |at| braced[..at].matches('\n').count() + 1);
                return Err(DotEnvError::Syntax {
                    path: path.to_path_buf(),
                    line,
                });
            }
            Err(dotenvy::Error::Io(source)) => {
                return Err(DotEnvError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
            Err(_) => {
                return Err(DotEnvError::Syntax {
                    path: path.to_path_buf(),
                    line: 1,
                })
            }
        }
    }
    Ok(out)
}

/// The line where `name` is last set (for errors), 1 if not found.
fn line_of_name(text: &str, name: &str) -> usize {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let l = l.trim_start();
            let l = l.strip_prefix("export ").map_or(l, str::trim_start);
            l.strip_prefix(name)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|(i, _)| i + 1)
        .last()
        .unwrap_or(1)
}

/// `$NAME` written `${NAME}` wherever dotenvy would expand it: dotenvy 0.15 ends a bare name
/// at the first `_` (`$DB_USER` would read `$DB`), where `dotenv-expand`, and so Next, reads
/// letters, digits and `_`. Quotes, escapes and comments are tracked as dotenvy reads them,
/// so nothing inside single quotes or after `#` changes. Line breaks are kept, so line
/// numbers stay the file's.
fn brace_names(text: &str) -> String {
    #[derive(PartialEq)]
    enum State {
        Plain,
        Single,
        Double,
        Comment,
    }
    let mut out = String::with_capacity(text.len());
    let mut state = State::Plain;
    let mut chars = text.chars().peekable();
    // Whether the previous character was whitespace (or the line start): `#` after it starts
    // a comment, as in dotenvy.
    let mut after_space = true;
    while let Some(c) = chars.next() {
        match state {
            State::Comment => {
                if c == '\n' {
                    state = State::Plain;
                }
                out.push(c);
            }
            State::Single => {
                if c == '\'' {
                    state = State::Plain;
                }
                out.push(c);
            }
            State::Plain | State::Double => match c {
                '\\' => {
                    out.push(c);
                    if let Some(next) = chars.next() {
                        out.push(next);
                    }
                }
                '\'' if state == State::Plain => {
                    state = State::Single;
                    out.push(c);
                }
                '"' => {
                    state = if state == State::Double {
                        State::Plain
                    } else {
                        State::Double
                    };
                    out.push(c);
                }
                '#' if state == State::Plain && after_space => {
                    state = State::Comment;
                    out.push(c);
                }
                '$' if chars
                    .peek()
                    .is_some_and(|n| n.is_ascii_alphabetic() || *n == '_') =>
                {
                    let mut name = String::new();
                    while let Some(&n) = chars.peek() {
                        if n.is_ascii_alphanumeric() || n == '_' {
                            name.push(n);
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    out.push_str("${");
                    out.push_str(&name);
                    out.push('}');
                }
                _ => out.push(c),
            },
        }
        after_space = c.is_whitespace();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(text: &str) -> BTreeMap<String, String> {
        parse(Path::new(".env"), text)
            .unwrap()
            .into_iter()
            .collect()
    }

    #[test]
    fn quotes_comments_export_and_expansion() {
        let v = vars(
            "# a comment\n\
             export PLAIN=value # trailing comment\n\
             SINGLE='$PLAIN stays # as written'\n\
             DOUBLE=\"two\\nlines\"\n\
             MULTI=\"first\nsecond\"\n\
             DB_USER=admin\n\
             URL=postgres://$DB_USER@host/${PLAIN}\n\
             EMPTY=\n\
             HASH=a#b\n",
        );
        assert_eq!(v["PLAIN"], "value");
        assert_eq!(v["SINGLE"], "$PLAIN stays # as written");
        assert_eq!(v["DOUBLE"], "two\nlines");
        assert_eq!(v["MULTI"], "first\nsecond");
        // The whole name, `_` included, as dotenv-expand reads it.
        assert_eq!(v["URL"], "postgres://admin@host/value");
        assert_eq!(v["EMPTY"], "");
        assert_eq!(v["HASH"], "a#b");
    }

    #[test]
    fn expansion_reads_the_shell_first() {
        let path = std::env::var("PATH").unwrap_or_default();
        assert_eq!(vars("PP=$PATH\n")["PP"], path);
        assert_eq!(vars("PP=\"${PATH}\"\n")["PP"], path);
        // Unknown names expand to nothing, as in dotenv-expand.
        assert_eq!(vars("XX=[$NEXTR_TEST_SURELY_UNSET_42]\n")["XX"], "[]");
    }

    #[test]
    fn errors_name_the_file_and_line_without_the_value() {
        let e = parse(
            Path::new("/app/.env.local"),
            "AA=1\n\nBB=\"sec ret never printed\n",
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, DotEnvError::Syntax { line: 3, .. }), "{text}");
        assert!(text.starts_with("/app/.env.local:3: "), "{text}");
        assert!(!text.contains("sec ret"), "{text}");

        let e = parse(Path::new(".env"), "AA=1\nexport my.var=2\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            ".env:2: `my.var`: an environment variable name is a letter followed by letters, digits or `_` (at least 2 characters)"
        );
    }

    fn app(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn each_file_wins_over_the_ones_below_it() {
        // Every file sets the names from its rank down, so each name shows who wins.
        let dir = app(&[
            (".env", "R1=env\nR2=env\nR3=env\nR4=env\n"),
            (".env.development", "R1=dev\nR2=dev\nR3=dev\n"),
            (".env.production", "R1=prod\nR2=prod\nR3=prod\n"),
            (".env.local", "R1=local\nR2=local\n"),
            (".env.development.local", "R1=dev-local\n"),
            (".env.production.local", "R1=prod-local\n"),
        ]);
        let dev = DotEnv::load(dir.path(), EnvMode::Development).unwrap();
        let got: Vec<&str> = ["R1", "R2", "R3", "R4"]
            .iter()
            .map(|k| dev.values[*k].as_str())
            .collect();
        assert_eq!(got, ["dev-local", "local", "dev", "env"]);
        assert_eq!(dev.origin["R2"], ".env.local");
        let prod = DotEnv::load(dir.path(), EnvMode::Production).unwrap();
        let got: Vec<&str> = ["R1", "R2", "R3", "R4"]
            .iter()
            .map(|k| prod.values[*k].as_str())
            .collect();
        assert_eq!(got, ["prod-local", "local", "prod", "env"]);
        assert_eq!(
            prod.loaded,
            [
                ".env.production.local",
                ".env.local",
                ".env.production",
                ".env"
            ]
        );
        assert!(DotEnv::load(app(&[]).path(), EnvMode::Production)
            .unwrap()
            .values
            .is_empty());
    }

    #[test]
    fn nextr_toml_lies_above_every_file() {
        let dir = app(&[
            (".env", "AA=env\nBB=env\nCC=env\n"),
            (".env.production.local", "AA=local\nBB=local\n"),
        ]);
        let mut config = crate::project::AppConfig::parse(
            Path::new("nextr.toml"),
            "[env]\nAA = \"toml\"\n[routes.\"/api/x\".env]\nBB = \"route\"\n",
        )
        .unwrap();
        config.dotenv = DotEnv::load(dir.path(), EnvMode::Production)
            .unwrap()
            .values;
        let env = config.env_for("/api/x");
        assert_eq!(
            [&env["AA"], &env["BB"], &env["CC"]],
            ["toml", "route", "env"]
        );
        assert_eq!(config.env_for("/api/y")["BB"], "local");
    }

    #[test]
    fn production_builds_name_what_they_take_from_local_files() {
        let dir = app(&[
            (
                ".env.local",
                "API_KEY=s3cr3t\nDEBUG=1\nSHADOWED=x\nAWS_REGION=eu-west-1\n",
            ),
            (".env.production.local", "TOKEN=t0k3n\n"),
            (".env", "PUBLIC=yes\n"),
        ]);
        let shadowed = BTreeMap::from([("SHADOWED".to_owned(), "toml".to_owned())]);
        let prod = DotEnv::load(dir.path(), EnvMode::Production).unwrap();
        let warnings = prod.warnings(&shadowed);
        assert_eq!(warnings.len(), 3, "{warnings:#?}");
        assert!(warnings[0].starts_with("this production build takes TOKEN from .env.production.local, a file for one machine: it is deployed"), "{}", warnings[0]);
        assert!(
            warnings[1].starts_with("this production build takes API_KEY, DEBUG from .env.local"),
            "{}",
            warnings[1]
        );
        assert_eq!(
            warnings[2],
            ".env.local: AWS_REGION is reserved by Lambda, which sets it itself: the functions do not get it"
        );
        assert!(!prod.values.contains_key("AWS_REGION"));
        // Names and files, never values.
        for w in &warnings {
            assert!(!w.contains("s3cr3t") && !w.contains("t0k3n") && !w.contains("eu-west-1"));
        }
        // Development reads `.env.local` by design: only the reserved name is worth a word.
        let dev = DotEnv::load(dir.path(), EnvMode::Development).unwrap();
        assert_eq!(dev.warnings(&shadowed).len(), 1);
    }
}
