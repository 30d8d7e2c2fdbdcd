//! Why a route tree is invalid, in Next's words where Next has words for it.

use std::fmt;

/// One reason a route pattern, or a pair of routes, is rejected.
///
/// The messages follow Next 16's wording (`sorted-routes.ts`), with its grammar slips fixed;
/// `Duplicate` is nextr's own rule (Next silently serves one of the two files).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// E1: two names for the same dynamic slot.
    #[error("You cannot use different slug names for the same dynamic path ('{0}' !== '{1}').")]
    DifferentSlugNames(String, String),
    /// E2: one name twice along a path.
    #[error("You cannot have the same slug name \"{0}\" repeat within a single dynamic path")]
    RepeatedSlug(String),
    /// E3: two names along a path equal once non-word characters are removed.
    #[error("You cannot have the slug names \"{0}\" and \"{1}\" differ only by non-word symbols within a single dynamic path")]
    SlugsDifferOnlyByNonWord(String, String),
    /// E4: a segment after `[...x]` or `[[...x]]`.
    #[error("Catch-all must be the last part of the URL.")]
    CatchAllNotLast,
    /// E5: `[[x]]` without the dots.
    #[error("Optional route parameters are not yet supported (\"{0}\").")]
    OptionalNotCatchAll(String),
    /// E6: a required and an optional catch-all under one folder.
    #[error("You cannot use both a required and optional catch-all route at the same level (\"{0}\" and \"{1}\").")]
    RequiredAndOptionalCatchAll(String, String),
    /// E7: a route at a folder that also has an optional catch-all (both would answer it).
    #[error("You cannot define a route with the same specificity as an optional catch-all route (\"{0}\" and \"{1}\").")]
    SameSpecificityAsOptionalCatchAll(String, String),
    /// E8: `[..x]`.
    #[error("Segment names may not start with erroneous periods ('{0}').")]
    ErroneousPeriods(String),
    /// E9: stray brackets such as `[[...x]`.
    #[error("Segment names may not start or end with extra brackets ('{0}').")]
    ExtraBrackets(String),
    /// E10: the Unicode ellipsis instead of three dots.
    #[error("Detected a three-dot character ('…') at ('{0}'). Did you mean ('...')?")]
    ThreeDotCharacter(String),
    /// `[...]` or `[[...]]` with no name.
    #[error("The dynamic segment \"{0}\" has no parameter name.")]
    EmptyParamName(String),
    /// nextr: a segment with a parameter inside it (`post-[id]`, `[id].json`) in a route that is
    /// dynamic. Next matches such a segment as that parameter with a literal prefix and suffix
    /// (only in dynamic routes; in a static route it is literal text); nextr does not.
    #[error("The segment '{0}' has a parameter inside it ('{1}'): in a dynamic route Next.js matches it as that parameter with a literal prefix or suffix, which nextr does not support; rename it or make the whole segment '[{1}]'.")]
    ParamInsideSegment(String, String),
    /// E4 for an App Router route, which Next words with the route's pattern.
    #[error("Catch-all must be the last part of the URL in route \"{0}\".")]
    CatchAllNotLastInRoute(String),
    /// E5 for an App Router route: the segment, then the route's pattern.
    #[error("Optional route parameters are not yet supported (\"{0}\") in route \"{1}\".")]
    OptionalNotCatchAllInRoute(String, String),
    /// An App Router route and a Pages Router route for one URL: Next refuses to build.
    #[error("App Router and Pages Router both match path: {0}. Next.js does not support having both App Router and Pages Router routes matching the same path. Please remove one of the conflicting routes.")]
    AppAndPages(String),
    /// Two App Router files for one URL (in different route groups): the URL, then each file's
    /// path under `app/` with its groups and without the extension, the later file first.
    #[error("Conflicting routes at {0}: route at {1} and route at {2}")]
    ConflictingAppRoutes(String, String, String),
    /// nextr: two files that resolve to the same route.
    #[error("duplicate route \"{0}\": more than one file resolves to it; keep one of them.")]
    Duplicate(String),
    /// A file name that is not valid UTF-8 cannot be a URL.
    #[error("the file name is not valid UTF-8, so it cannot be a route.")]
    NotUtf8,
    /// A page pattern must start with `/`.
    #[error("route pattern \"{0}\" must start with '/'.")]
    NotAbsolute(String),
    /// A page pattern with `//`.
    #[error("route pattern \"{0}\" has an empty segment.")]
    EmptySegment(String),
}

/// One problem in a route tree: the error and every file it involves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeProblem {
    /// The files at fault, relative to the app root; the first is the one being added.
    pub files: Vec<String>,
    /// What is wrong.
    pub error: RouteError,
}

impl RouteError {
    /// The error as Next words it for an App Router route at `page`: the same rule, with the
    /// route named (Pages keeps Next's shorter Pages wording).
    pub(crate) fn in_app_route(self, page: &str) -> Self {
        match self {
            RouteError::CatchAllNotLast => RouteError::CatchAllNotLastInRoute(page.to_owned()),
            RouteError::OptionalNotCatchAll(segment) => {
                RouteError::OptionalNotCatchAllInRoute(segment, page.to_owned())
            }
            other => other,
        }
    }
}

impl fmt::Display for TreeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.files.join(", "), self.error)
    }
}

/// Every problem of an invalid route tree (not just the first), for one report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct TreeError {
    /// The problems in file order.
    pub problems: Vec<TreeProblem>,
}

impl fmt::Display for TreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "invalid route tree: {n} problem{}",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}
