//! `[[permissions]]` and `[[routes."<page>".permissions]]`: IAM statements a function's role
//! holds, checked for the shape IAM takes (`service:Action`, ARNs or `*`), so a deploy never
//! fails on a typo, and with only the placeholders deploy knows how to fill.

use nextr::manifest::{Effect, PolicyStatement};
use toml::de::DeValue;

use super::{Reader, Value};
use crate::analysis::suggest;
use crate::project::app_config::report::ConfigDiagnostic;

/// The keys of one `[[permissions]]` entry.
pub const PERMISSION_KEYS: &[&str] = &["actions", "resources", "effect"];

/// The placeholders a resource may hold, which deploy replaces with the deployed stage's
/// values (the template with `${AWS::…}` references).
pub const RESOURCE_PLACEHOLDERS: &[&str] =
    &["{partition}", "{region}", "{account}", "{app}", "{stage}"];

/// What a statement needs, for messages.
const EXAMPLE: &str = "`[[permissions]]` with `actions = [\"dynamodb:GetItem\"]` and `resources = [\"arn:{partition}:dynamodb:{region}:{account}:table/orders\"]`";

impl Reader<'_> {
    /// An array of statements (`[[permissions]]`, or a route's); `key` is its dotted name.
    /// Every bad entry is reported; the good ones are kept only when all are good.
    pub(super) fn permissions(&mut self, key: &str, value: &Value<'_>) -> Vec<PolicyStatement> {
        let DeValue::Array(items) = value.get_ref() else {
            let d = self
                .type_diagnostic(key, value, "an array of tables", value.get_ref())
                .with_help(format!("write each statement as {EXAMPLE}"));
            self.push(d);
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let full = format!("{key}[{i}]");
            match self.statement(&full, item) {
                Some(s) => out.push(s),
                None => ok = false,
            }
        }
        if ok {
            out
        } else {
            Vec::new()
        }
    }

    /// One statement: `actions`, `resources` (both required, non-empty) and `effect`.
    fn statement(&mut self, key: &str, value: &Value<'_>) -> Option<PolicyStatement> {
        let DeValue::Table(table) = value.get_ref() else {
            let d = self
                .type_diagnostic(key, value, "a table", value.get_ref())
                .with_help(format!("write each statement as {EXAMPLE}"));
            self.push(d);
            return None;
        };
        let mut ok = true;
        let mut actions = None;
        let mut resources = None;
        let mut effect = Effect::Allow;
        for (k, v) in table.iter() {
            let name = k.get_ref().as_ref();
            let full = format!("{key}.{name}");
            match name {
                "actions" => actions = self.actions(&full, v),
                "resources" => resources = self.resources(&full, v),
                "effect" => match self.string(&full, v, "\"Allow\" or \"Deny\"") {
                    Some("Allow") => effect = Effect::Allow,
                    Some("Deny") => effect = Effect::Deny,
                    Some(other) => {
                        let mut d = self.bad_diagnostic(
                            &full,
                            v,
                            format!("{other:?} is not an effect: IAM takes \"Allow\" or \"Deny\""),
                            "not an effect",
                        );
                        if let Some(s) = suggest(other, &["Allow", "Deny"]) {
                            d = d.with_help(format!("did you mean \"{s}\"?"));
                        }
                        self.push(d);
                        ok = false;
                    }
                    None => ok = false,
                },
                other => {
                    self.unknown(
                        k,
                        other,
                        &format!("{key}."),
                        PERMISSION_KEYS,
                        "a permission",
                    );
                    ok = false;
                }
            }
        }
        for (field, found) in [("actions", &actions), ("resources", &resources)] {
            if found.is_none() && !table.contains_key(field) {
                self.push(
                    ConfigDiagnostic::at(
                        self.file,
                        "nextr::toml::missing_key",
                        value.span(),
                        format!("`{key}`: missing `{field}`: a permission needs its `actions` and the `resources` they apply to"),
                        format!("no `{field}` here"),
                    )
                    .with_key(key)
                    .with_help(format!("write the statement as {EXAMPLE}")),
                );
            }
        }
        match (ok, actions, resources) {
            (true, Some(actions), Some(resources)) => Some(PolicyStatement {
                effect,
                actions,
                resources,
            }),
            _ => None,
        }
    }

    /// `actions`: a non-empty array of `service:Action` (wildcards allowed).
    fn actions(&mut self, key: &str, value: &Value<'_>) -> Option<Vec<String>> {
        let items = self.non_empty_strings(key, value, "an action such as \"s3:GetObject\"")?;
        let mut ok = true;
        for (action, span) in &items {
            if let Some(problem) = action_problem(action) {
                self.push(
                    ConfigDiagnostic::at(
                        self.file,
                        "nextr::toml::value",
                        span.clone(),
                        format!("`{key}`: {problem}"),
                        "not an IAM action",
                    )
                    .with_key(key)
                    .with_help("write the service prefix, a colon and the action, such as \"dynamodb:GetItem\" or \"s3:Get*\""),
                );
                ok = false;
            }
        }
        ok.then(|| items.into_iter().map(|(s, _)| s).collect())
    }

    /// `resources`: a non-empty array of ARNs (with placeholders) or `*`.
    fn resources(&mut self, key: &str, value: &Value<'_>) -> Option<Vec<String>> {
        let items = self.non_empty_strings(
            key,
            value,
            "a resource such as \"arn:{partition}:s3:::my-bucket/*\"",
        )?;
        let mut ok = true;
        for (resource, span) in &items {
            if let Some(problem) = resource_problem(resource) {
                self.push(
                    ConfigDiagnostic::at(
                        self.file,
                        "nextr::toml::value",
                        span.clone(),
                        format!("`{key}`: {problem}"),
                        "not a resource",
                    )
                    .with_key(key)
                    .with_help(format!(
                        "write an ARN (\"arn:…\") or \"*\"; the placeholders deploy fills are {}",
                        RESOURCE_PLACEHOLDERS.join(", ")
                    )),
                );
                ok = false;
            }
        }
        ok.then(|| items.into_iter().map(|(s, _)| s).collect())
    }

    /// An array of strings with at least one.
    fn non_empty_strings(
        &mut self,
        key: &str,
        value: &Value<'_>,
        one: &str,
    ) -> Option<Vec<(String, std::ops::Range<usize>)>> {
        let items = self.strings(key, value)?;
        if items.is_empty() {
            self.bad(
                key,
                value,
                format!("an empty list grants nothing: list at least one, {one}"),
                "empty",
            );
            return None;
        }
        Some(items)
    }
}

/// Why IAM would refuse `action`, if it would: a service prefix (lowercase letters, digits
/// and `-`), a colon, and an action name (letters, digits, `*` and `?`).
pub fn action_problem(action: &str) -> Option<String> {
    if action == "*" {
        return Some("\"*\" grants every action of every service: name the actions (\"s3:GetObject\"), or a service's with \"s3:*\"".to_owned());
    }
    let Some((service, name)) = action.split_once(':') else {
        return Some(format!(
            "{action:?} is not an IAM action: it needs a service prefix, such as \"s3:GetObject\""
        ));
    };
    let service_ok = !service.is_empty()
        && service
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let name_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'*' || b == b'?');
    if !service_ok {
        Some(format!("{action:?}: the service prefix {service:?} is not one (lowercase letters, digits and `-`, such as \"dynamodb\")"))
    } else if !name_ok {
        Some(format!("{action:?}: the action name {name:?} is not one (letters and digits, `*` or `?` as wildcards, such as \"GetItem\" or \"Get*\")"))
    } else {
        None
    }
}

/// Why `resource` is not a resource deploy can write, if it is not: `*`, or an ARN whose
/// `{…}` are all [`RESOURCE_PLACEHOLDERS`] (IAM's own `${aws:username}` variables pass
/// through).
pub fn resource_problem(resource: &str) -> Option<String> {
    if resource == "*" {
        return None;
    }
    if !resource.starts_with("arn:") {
        return Some(format!(
            "{resource:?} is not an ARN: a resource starts with \"arn:\" (or is \"*\")"
        ));
    }
    let mut rest = resource;
    while let Some(start) = rest.find('{') {
        // `${aws:username}`: an IAM policy variable, IAM's to fill.
        let variable = rest[..start].ends_with('$');
        let Some(len) = rest[start..].find('}') else {
            return Some(format!("{resource:?} has a `{{` without its `}}`"));
        };
        let placeholder = &rest[start..start + len + 1];
        if !variable && !RESOURCE_PLACEHOLDERS.contains(&placeholder) {
            return Some(format!(
                "{resource:?}: {placeholder} is not a placeholder deploy fills; the placeholders are {}",
                RESOURCE_PLACEHOLDERS.join(", ")
            ));
        }
        rest = &rest[start + len + 1..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_service_colon_name() {
        for good in [
            "s3:GetObject",
            "dynamodb:*",
            "s3:Get*",
            "execute-api:Invoke",
            "s3:?et*",
        ] {
            assert_eq!(action_problem(good), None, "{good}");
        }
        assert!(action_problem("GetObject")
            .unwrap()
            .contains("service prefix"));
        assert!(action_problem("S3:GetObject").unwrap().contains("\"S3\""));
        assert!(action_problem("s3:").unwrap().contains("action name"));
        assert!(action_problem("s3:Get Object")
            .unwrap()
            .contains("action name"));
        assert!(action_problem("*").unwrap().contains("every action"));
    }

    #[test]
    fn resources_are_arns_with_known_placeholders() {
        for good in [
            "*",
            "arn:aws:s3:::bucket/*",
            "arn:{partition}:dynamodb:{region}:{account}:table/{app}-{stage}-orders",
            "arn:aws:s3:::bucket/${aws:username}/*",
        ] {
            assert_eq!(resource_problem(good), None, "{good}");
        }
        assert!(resource_problem("my-bucket")
            .unwrap()
            .contains("not an ARN"));
        let e = resource_problem("arn:aws:s3:::{bucket}/*").unwrap();
        assert!(e.contains("{bucket} is not a placeholder"), "{e}");
        assert!(
            e.contains("{partition}, {region}, {account}, {app}, {stage}"),
            "{e}"
        );
        assert!(resource_problem("arn:aws:s3:::{stage")
            .unwrap()
            .contains("without"));
    }

    fn parse(text: &str) -> Result<crate::project::app_config::AppConfig, Vec<String>> {
        crate::project::app_config::AppConfig::parse(std::path::Path::new("nextr.toml"), text)
            .map_err(|e| e.lines())
    }

    #[test]
    fn app_wide_and_route_statements_are_read() {
        let c = parse(
            r#"
[[permissions]]
actions = ["dynamodb:GetItem"]
resources = ["arn:{partition}:dynamodb:{region}:{account}:table/{app}-{stage}-orders"]

[[permissions]]
effect = "Deny"
actions = ["s3:DeleteObject"]
resources = ["*"]

[[routes."/api/upload".permissions]]
actions = ["s3:PutObject"]
resources = ["arn:aws:s3:::uploads/*"]
"#,
        )
        .unwrap();
        assert_eq!(c.permissions.len(), 2);
        assert_eq!(c.permissions[0].effect, Effect::Allow);
        assert_eq!(c.permissions[1].effect, Effect::Deny);
        assert_eq!(c.permissions[1].resources, ["*"]);
        assert_eq!(
            c.routes["/api/upload"].permissions,
            [PolicyStatement {
                effect: Effect::Allow,
                actions: vec!["s3:PutObject".into()],
                resources: vec!["arn:aws:s3:::uploads/*".into()],
            }]
        );
    }

    #[test]
    fn every_problem_is_reported_at_its_line() {
        let lines = parse(
            r#"[[permissions]]
action = ["s3:GetObject"]
resources = ["arn:aws:s3:::b/*"]

[[permissions]]
actions = ["GetObject", "s3:Get*"]
resources = []
effect = "allow"

[[routes."/api/x".permissions]]
actions = ["s3:PutObject"]
resources = ["arn:aws:s3:::{bucket}/*", "bucket"]
"#,
        )
        .unwrap_err();
        let expect = [
            "nextr.toml:1:1: `permissions[0]`: missing `actions`",
            "nextr.toml:2:1: unknown key `action` in a permission",
            "nextr.toml:6:12: `permissions[1].actions`: \"GetObject\" is not an IAM action",
            "nextr.toml:7:13: `permissions[1].resources`: an empty list grants nothing",
            "nextr.toml:8:10: `permissions[1].effect`: \"allow\" is not an effect",
            "nextr.toml:12:14: `routes.\"/api/x\".permissions[0].resources`: \"arn:aws:s3:::{bucket}/*\": {bucket} is not a placeholder",
            "nextr.toml:12:41: `routes.\"/api/x\".permissions[0].resources`: \"bucket\" is not an ARN",
        ];
        assert_eq!(lines.len(), expect.len(), "{lines:#?}");
        for (line, want) in lines.iter().zip(expect) {
            assert!(
                line.starts_with(want),
                "{line}\n  should start with\n{want}"
            );
        }
        let e = parse("permissions = { actions = [\"s3:GetObject\"] }\n").unwrap_err();
        assert!(
            e[0].contains("`permissions`: expected an array of tables"),
            "{e:?}"
        );
    }
}
