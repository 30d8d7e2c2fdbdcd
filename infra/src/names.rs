//! The rules for the names nextr puts into AWS resource names: the app and the stage. One
//! home, so `nextr.toml`, `--stage`, deploy and the CloudFormation template accept exactly
//! the same names.
//!
//! A stage becomes part of Lambda function names (`<function>-<stage>`, 64 characters at
//! most), of the role and API names, and of tag values: lowercase letters, digits and `-`,
//! starting with a letter or digit, at most 16 characters, keeps every one of them valid.

/// The stage when neither `--stage` nor `nextr.toml` names one.
pub const DEFAULT_STAGE: &str = "dev";

/// The longest stage name.
pub const MAX_STAGE: usize = 16;

/// The stage rule as a regular expression, for the template's `AllowedPattern`.
pub const STAGE_PATTERN: &str = "^[a-z0-9][a-z0-9-]{0,15}$";

/// The longest app name: function names are `<app>-<route>-<hash>-<stage>` within Lambda's 64
/// characters.
pub const MAX_APP: usize = 40;

/// Why a name is refused, worded to say what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// A bad app name.
    #[error("{0:?} is not an app name: use 1 to {MAX_APP} letters, digits and `-`, starting with a letter (it prefixes AWS resource names)")]
    App(String),
    /// A bad stage name.
    #[error("{0:?} is not a stage name: use 1 to {MAX_STAGE} lowercase letters, digits and `-`, starting with a letter or digit (it is part of AWS resource names), e.g. \"dev\" or \"prod\"")]
    Stage(String),
}

/// Checks an app name.
pub fn check_app(name: &str) -> Result<(), NameError> {
    let ok = (1..=MAX_APP).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(NameError::App(name.to_owned()))
    }
}

/// Checks a stage name.
pub fn check_stage(name: &str) -> Result<(), NameError> {
    let ok = (1..=MAX_STAGE).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(NameError::Stage(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An independent reading of [`STAGE_PATTERN`], so the template and the checks agree.
    fn matches_pattern(s: &str) -> bool {
        let b = s.as_bytes();
        let class =
            |c: u8, dash: bool| c.is_ascii_lowercase() || c.is_ascii_digit() || (dash && c == b'-');
        !b.is_empty()
            && b.len() <= 16
            && class(b[0], false)
            && b[1..].iter().all(|&c| class(c, true))
    }

    #[test]
    fn stages() {
        assert_eq!(STAGE_PATTERN, "^[a-z0-9][a-z0-9-]{0,15}$");
        for s in [
            "dev",
            "prod",
            "pr-12",
            "0",
            "a234567890123456",
            DEFAULT_STAGE,
        ] {
            assert!(check_stage(s).is_ok(), "{s}");
            assert!(matches_pattern(s), "{s}");
        }
        for s in [
            "",
            "$default",
            "Prod",
            "-x",
            "a_b",
            "a2345678901234567",
            "é",
        ] {
            assert!(check_stage(s).is_err(), "{s}");
            assert!(!matches_pattern(s), "{s}");
        }
        assert!(check_stage("Prod")
            .unwrap_err()
            .to_string()
            .contains("lowercase"));
    }

    #[test]
    fn apps() {
        for s in ["a", "my-app", "App2"] {
            assert!(check_app(s).is_ok(), "{s}");
        }
        for s in ["", "2app", "my_app", "a.b", &"a".repeat(41)] {
            assert!(check_app(s).is_err(), "{s}");
        }
    }
}
