//! Optimistic versions: what a caller's `If-Match` asks of a resource's version.

/// The versions a write may apply to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum VersionCheck {
    /// No `If-Match`, or `If-Match: *`: any current version.
    #[default]
    Any,
    /// One of these versions (RFC 9110 strong comparison: weak tags were left out, so the
    /// list may be empty and then matches nothing).
    OneOf(Vec<i64>),
}

impl VersionCheck {
    /// Whether a resource at `version` may be written.
    pub fn admits(&self, version: i64) -> bool {
        match self {
            VersionCheck::Any => true,
            VersionCheck::OneOf(versions) => versions.contains(&version),
        }
    }

    /// Whether the caller named versions (a lost race is then a 412, not a retry).
    pub fn is_guarded(&self) -> bool {
        matches!(self, VersionCheck::OneOf(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_admits_each_of_its_versions_and_an_empty_one_none() {
        let check = VersionCheck::OneOf(vec![1, 2]);
        assert!(check.admits(1) && check.admits(2) && !check.admits(3));
        assert!(!VersionCheck::OneOf(Vec::new()).admits(1));
        assert!(VersionCheck::Any.admits(7));
    }
}
